// VerifyDatabase: every entry row, every stored Merkle node, every checkpoint.
#include <limits>
#include <tuple>

#include "attest/encoding.h"
#include "attest/ledger/verify.h"

namespace attest::ledger {
namespace {

std::tuple<std::uint64_t, int> OrderKey(const CompactRange::Node& node) {
  return {((node.index + 1) << node.level) - 1, node.level};
}

std::string NodeName(const CompactRange::Node& node) {
  return "Merkle node (level " + std::to_string(node.level) + ", index " +
         std::to_string(node.index) + ")";
}

// Walks the stored interior nodes alongside the recomputed tree.
class StoredNodeMatcher {
 public:
  StoredNodeMatcher(NodeCursor& cursor, VerifyReport& report) : cursor_(cursor), report_(report) {}

  Status Match(const CompactRange::Node& computed) {
    ATTEST_RETURN_IF_ERROR(Fill());
    while (stored_ && OrderKey(*stored_) < OrderKey(computed)) {
      report_.Add(NodeName(*stored_), "stored node is not part of the tree the entries form");
      ATTEST_RETURN_IF_ERROR(Advance());
    }
    if (!stored_ || OrderKey(*stored_) != OrderKey(computed)) {
      report_.Add(NodeName(computed), "missing from the database");
      return OkStatus();
    }
    if (stored_->hash != computed.hash) {
      report_.Add(NodeName(computed),
                  "stored hash does not match the hash of the entries below it");
    }
    return Advance();
  }

  // Anything left over lies beyond the last entry.
  Status Finish() {
    ATTEST_RETURN_IF_ERROR(Fill());
    while (stored_) {
      report_.Add(NodeName(*stored_), "stored node lies beyond the last entry");
      ATTEST_RETURN_IF_ERROR(Advance());
    }
    return OkStatus();
  }

 private:
  Status Fill() {
    if (!started_) {
      started_ = true;
      return Advance();
    }
    return OkStatus();
  }
  Status Advance() {
    CompactRange::Node node{};
    ATTEST_ASSIGN_OR_RETURN(bool has_node, cursor_.Next(node));
    if (has_node)
      stored_ = node;
    else
      stored_.reset();
    return OkStatus();
  }

  NodeCursor& cursor_;
  VerifyReport& report_;
  std::optional<CompactRange::Node> stored_;
  bool started_ = false;
};

void CheckStoredCheckpoint(const StoredCheckpoint& stored, std::uint64_t size, const Hash& root,
                           const NoteVerifier& key, VerifyReport& report) {
  std::string where = "checkpoint at size " + std::to_string(stored.tree_size);
  if (stored.root_hash != root) {
    report.Add(where, "stored root_hash column does not match the entries");
  }
  CheckCheckpointNote(stored.note, size, root, key, where, report);
}

// Reads every row; the caller holds one read snapshot, so entries, nodes and
// checkpoints that writers append meanwhile cannot be half-seen.
Status VerifyRows(LedgerStore& store, const NoteVerifier& key, VerifyReport& report,
                  const TrustedReference& reference) {
  ATTEST_ASSIGN_OR_RETURN(std::vector<StoredCheckpoint> checkpoints, store.AllCheckpoints());
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<NodeCursor> nodes, store.ScanNodes());
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<EntryCursor> entries,
                          store.ScanEntries(1, std::numeric_limits<std::int64_t>::max()));

  StoredNodeMatcher matcher(*nodes, report);
  EntrySequenceChecker checker(report);
  if (reference.checkpoint) checker.WatchSize(reference.checkpoint->tree_size);
  checker.set_node_sink([&](const CompactRange::Node& node) { return matcher.Match(node); });

  std::size_t next_checkpoint = 0;

  auto check_checkpoints = [&] {
    while (next_checkpoint < checkpoints.size() &&
           checkpoints[next_checkpoint].tree_size <= checker.size()) {
      CheckStoredCheckpoint(checkpoints[next_checkpoint], checker.size(), checker.Root(), key,
                            report);
      ++next_checkpoint;
    }
  };
  check_checkpoints();  // a checkpoint of the empty tree
  Entry entry;
  while (true) {
    auto next = entries->Next(entry);
    if (!next.ok()) {
      if (next.error().code != ErrorCode::kCorrupt) return next.error();
      report.Add("row after seq " + std::to_string(entry.seq), next.error().message);
      continue;  // the cursor has moved past the damaged row
    }
    if (!*next) break;
    checker.Check(entry, {});
    check_checkpoints();
  }
  report.root = checker.Root();
  ATTEST_RETURN_IF_ERROR(matcher.Finish());
  for (; next_checkpoint < checkpoints.size(); ++next_checkpoint) {
    report.Add("checkpoint at size " + std::to_string(checkpoints[next_checkpoint].tree_size),
               "the database holds only " + std::to_string(checker.size()) +
                   " entries: entries were deleted");
  }
  CheckTrustedReference(reference, "the database", checker.size(), checker.watched_root(), report);
  return OkStatus();
}

}  // namespace

Status VerifyDatabase(Ledger& ledger, const std::optional<NoteVerifier>& trusted_key,
                      VerifyReport& report, const TrustedReference& reference) {
  const NoteVerifier& key = ledger.checkpoint_key();
  if (trusted_key && (trusted_key->name != key.name || trusted_key->public_key != key.public_key)) {
    report.Add("ledger metadata", "the database's checkpoint key " +
                                      DescribeKey(key.name, key.key_id) +
                                      " is not the trusted key " +
                                      DescribeKey(trusted_key->name, trusted_key->key_id));
  }
  LedgerStore& store = ledger.store();
  return store.WithReadSnapshot([&] { return VerifyRows(store, key, report, reference); });
}

}  // namespace attest::ledger
