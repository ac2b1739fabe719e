// The rules shared by database and export verification.
#include "attest/ledger/verify.h"

#include "attest/encoding.h"

namespace attest::ledger {
namespace {

std::string Short(const Hash& hash) { return HexEncode(ByteView(hash.data(), 8)) + ".."; }

}  // namespace

void VerifyReport::Add(std::string where, std::string what) {
  ++problem_count_;
  if (problems_.size() < kMaxListed) problems_.push_back({std::move(where), std::move(what)});
}

std::string EntrySequenceChecker::Describe(const Location& location, std::uint64_t seq) {
  std::string text = "seq " + std::to_string(seq);
  if (location.line == 0) return text;
  return "line " + std::to_string(location.line) + " (" + text + ")";
}

EntryFacts ExamineEntry(const Entry& entry, Sha256& hasher) {
  EntryFacts facts;
  facts.computed_hash = ComputeEntryHash(entry.seq, entry.content, hasher);
  if (Status kind = CheckKindSyntax(entry.content.kind); !kind.ok()) {
    facts.kind_problem = kind.error().message;
  }
  if (entry.content.signature) {
    facts.is_signed = true;
    if (!VerifyEntrySignature(entry.content)) {
      facts.signature_problem = "signature by key " + KeyIdOf(entry.content.signature->public_key) +
                                " does not verify over the entry's kind and payload";
    }
  }
  return facts;
}

EntrySummary SummarizeEntry(const Entry& entry, Sha256& hasher) {
  return EntrySummary{entry.seq, entry.entry_hash, entry.chain_hash, ExamineEntry(entry, hasher)};
}

void EntrySequenceChecker::Check(const EntrySummary& entry, const Location& location) {
  auto where = [&] { return Describe(location, entry.seq); };
  const std::uint64_t expected = last_seq_ + 1;
  if (entry.seq > expected) {
    const std::uint64_t missing = entry.seq - expected;
    report_.Add(where(), "seq " + std::to_string(entry.seq) + " follows seq " +
                             std::to_string(last_seq_) + ": " +
                             (missing == 1 ? "entry " + std::to_string(expected) + " is"
                                           : "entries " + std::to_string(expected) + ".." +
                                                 std::to_string(entry.seq - 1) + " are") +
                             " missing or out of order");
  } else if (entry.seq < expected) {
    report_.Add(where(), "seq " + std::to_string(entry.seq) + " comes after seq " +
                             std::to_string(last_seq_) + ": entries are out of order or repeated");
  }
  last_seq_ = entry.seq;

  const EntryFacts& facts = entry.facts;
  if (!facts.kind_problem.empty()) report_.Add(where(), facts.kind_problem);
  if (facts.computed_hash != entry.entry_hash) {
    report_.Add(where(), "entry_hash " + Short(entry.entry_hash) +
                             " does not match the entry's content (" + Short(facts.computed_hash) +
                             "): the entry was changed");
  }
  if (ComputeChainHash(last_chain_, facts.computed_hash, hasher_) != entry.chain_hash) {
    report_.Add(where(), "chain_hash does not follow from the previous entry's chain hash: the "
                         "chain is broken here");
  }
  last_chain_ = entry.chain_hash;
  if (facts.is_signed) ++report_.signed_entries;
  if (!facts.signature_problem.empty()) report_.Add(where(), facts.signature_problem);
  ++report_.entries;
  // The tree is built from what the entries say, never from stored hashes.
  Status appended = range_.Append(facts.computed_hash, node_sink_);
  if (!appended.ok()) report_.Add(where(), appended.error().message);
  CaptureWatchedRoot();
}

void EntrySequenceChecker::WatchSize(std::uint64_t size) {
  watched_size_ = size;
  watched_root_.reset();
  CaptureWatchedRoot();  // a watched size of 0, or the size already reached
}

void EntrySequenceChecker::CaptureWatchedRoot() {
  if (watched_size_ && !watched_root_ && range_.size() == *watched_size_) {
    watched_root_ = range_.Root();
  }
}

void CheckCheckpointNote(std::string_view note, std::uint64_t expected_size,
                         const Hash& expected_root, const NoteVerifier& key,
                         const std::string& where, VerifyReport& report) {
  auto checkpoint = OpenCheckpoint(note, key);
  if (!checkpoint.ok()) {
    report.Add(where, checkpoint.error().message);
    return;
  }
  if (checkpoint->tree_size != expected_size) {
    report.Add(where, "checkpoint covers " + std::to_string(checkpoint->tree_size) +
                          " entries but " + std::to_string(expected_size) + " precede it");
    return;
  }
  if (checkpoint->root_hash != expected_root) {
    report.Add(where, "checkpoint root " + Short(checkpoint->root_hash) +
                          " is not the root of the entries (" + Short(expected_root) +
                          "): entries were changed, added or removed");
    return;
  }
  ++report.checkpoints_verified;
  if (!report.latest_checkpoint || report.latest_checkpoint->tree_size <= checkpoint->tree_size) {
    report.latest_checkpoint = *checkpoint;
  }
}

void CheckTrustedReference(const TrustedReference& reference, std::string_view subject,
                           std::uint64_t size, const std::optional<Hash>& prefix_root,
                           VerifyReport& report) {
  const std::string holds =
      std::string(subject) + " holds " + std::to_string(size) + " entr" + (size == 1 ? "y" : "ies");
  if (reference.min_size > size) {
    report.Add("minimum size " + std::to_string(reference.min_size),
               holds + ", fewer than the required " + std::to_string(reference.min_size) +
                   ": entries were removed from its end, or it is an older copy");
  }
  if (!reference.checkpoint) return;
  const Checkpoint& trusted = *reference.checkpoint;
  const std::string where =
      "trusted checkpoint" +
      (reference.checkpoint_source.empty() ? "" : " " + reference.checkpoint_source);
  const std::string trusted_size = std::to_string(trusted.tree_size);
  if (size < trusted.tree_size) {
    report.Add(where, holds + " but the trusted checkpoint commits to " + trusted_size +
                          ": the ledger was cut back to an earlier size (" +
                          std::to_string(trusted.tree_size - size) +
                          " entries removed from its end), or it is an older copy");
    return;
  }
  if (!prefix_root) {
    // The caller did not watch the checkpoint's size; fail closed.
    report.Add(where, "the root at size " + trusted_size + " was not computed");
    return;
  }
  if (*prefix_root != trusted.root_hash) {
    report.Add(where, "the root of the first " + trusted_size + " of the " + std::to_string(size) +
                          " entries " + std::string(subject) + " holds is " + Short(*prefix_root) +
                          ", but the trusted checkpoint of size " + trusted_size + " signs " +
                          Short(trusted.root_hash) +
                          ": this history differs from the one the checkpoint signed (one or "
                          "more of entries 1.." +
                          trusted_size + " were changed: a fork of the ledger)");
  }
}

}  // namespace attest::ledger
