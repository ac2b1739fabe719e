// Verification of a whole ledger: its database, or an export of it. Both
// feed the same EntrySequenceChecker, so the rules are written once.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/error.h"
#include "attest/ledger/checkpoint.h"
#include "attest/ledger/entry.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/merkle.h"
#include "attest/ledger/note.h"

namespace attest::ledger {

struct VerifyProblem {
  std::string where;  // "line 12", "seq 11", "checkpoint at size 100"
  std::string what;   // what is wrong, in words an auditor can act on
};

// What a verification found. Keeps the first kMaxListed problems and counts
// the rest.
class VerifyReport {
 public:
  static constexpr std::size_t kMaxListed = 50;

  void Add(std::string where, std::string what);
  bool ok() const { return problem_count_ == 0; }
  const std::vector<VerifyProblem>& problems() const { return problems_; }
  std::uint64_t problem_count() const { return problem_count_; }

  std::uint64_t entries = 0;
  std::uint64_t signed_entries = 0;
  std::uint64_t checkpoints_verified = 0;
  std::optional<Checkpoint> latest_checkpoint;  // the largest one that verified
  Hash root{};                                  // of all entries checked

 private:
  std::vector<VerifyProblem> problems_;
  std::uint64_t problem_count_ = 0;
};

// What can be checked of one entry on its own, without its neighbours. Pure,
// so callers may examine entries on several threads.
struct EntryFacts {
  Hash computed_hash{};           // recomputed from the content
  std::string kind_problem;       // empty when the kind is well-formed
  bool is_signed = false;
  std::string signature_problem;  // empty unless a signature fails
};
EntryFacts ExamineEntry(const Entry& entry, Sha256& hasher);

// All the sequence check needs of an entry: what it claims and what was
// found. Small, so entries can be dropped once examined.
struct EntrySummary {
  std::uint64_t seq = 0;
  Hash entry_hash{};  // as stored
  Hash chain_hash{};  // as stored
  EntryFacts facts;
};
EntrySummary SummarizeEntry(const Entry& entry, Sha256& hasher);

// Checks entries, in the order given, as a ledger: seqs 1, 2, 3, ...; each
// entry hash recomputed from the content; each chain hash following from the
// previous entry's; signatures; and the Merkle tree of the recomputed hashes.
// Each problem is reported once, where it is, instead of cascading: a chain
// link is checked against the previous entry's stored chain hash.
class EntrySequenceChecker {
 public:
  explicit EntrySequenceChecker(VerifyReport& report) : report_(report) {}

  // Receives each interior Merkle node as the recomputed tree completes it.
  void set_node_sink(CompactRange::NodeSink sink) { node_sink_ = std::move(sink); }

  // Where an entry came from, for messages: "line 7 (seq 7)" for an export
  // line, "seq 7" for a database row. Formatted only when there is a problem.
  struct Location {
    std::uint64_t line = 0;  // 0: not from a file
  };
  static std::string Describe(const Location& location, std::uint64_t seq);

  void Check(const EntrySummary& entry, const Location& location);
  // `entry` holds the stored entry_hash and chain_hash.
  void Check(const Entry& entry, const Location& location) {
    Check(SummarizeEntry(entry, hasher_), location);
  }

  std::uint64_t size() const { return range_.size(); }
  Hash Root() const { return range_.Root(); }

  // Keeps the root of the tree at `size` entries when the checks reach it,
  // so a trusted checkpoint of that size can be compared after the stream.
  void WatchSize(std::uint64_t size);
  // The root at the watched size; nullopt until that many entries were checked.
  const std::optional<Hash>& watched_root() const { return watched_root_; }

 private:
  void CaptureWatchedRoot();

  VerifyReport& report_;
  CompactRange range_;
  CompactRange::NodeSink node_sink_;
  Sha256 hasher_;
  std::uint64_t last_seq_ = 0;
  Hash last_chain_ = kGenesisChainHash;
  std::optional<std::uint64_t> watched_size_;
  std::optional<Hash> watched_root_;
};

// Checks a checkpoint note against the key and the root recomputed at its size.
void CheckCheckpointNote(std::string_view note, std::uint64_t expected_size,
                         const Hash& expected_root, const NoteVerifier& key,
                         const std::string& where, VerifyReport& report);

// What an auditor holds from outside the ledger (FORMAT.md §7, "Against what
// the auditor holds"). An export of an earlier checkpoint is itself a valid
// export, so only a reference kept elsewhere shows that entries were not cut
// from the end.
struct TrustedReference {
  std::optional<Checkpoint> checkpoint;  // opened under the ledger's key (OpenCheckpoint)
  std::string checkpoint_source;         // where it came from, for messages: a file name
  std::uint64_t min_size = 0;            // the fewest entries the ledger may hold; 0: any
};

// Checks a tree of `size` entries against `reference`: at least min_size
// entries, at least the trusted checkpoint's size, and the checkpoint's root
// equal to the root of the tree's first checkpoint->tree_size entries, given
// as `prefix_root` (nullopt when the tree is smaller). `subject` names the
// tree in messages ("the export"). Pure: adds what fails to `report`.
void CheckTrustedReference(const TrustedReference& reference, std::string_view subject,
                           std::uint64_t size, const std::optional<Hash>& prefix_root,
                           VerifyReport& report);

// Verifies the database behind `ledger`: every entry, every stored Merkle node
// and every stored checkpoint. With `trusted_key`, also that the ledger's own
// checkpoint key is that key; with `reference`, that the entries extend it.
// An error means the database could not be read.
Status VerifyDatabase(Ledger& ledger, const std::optional<NoteVerifier>& trusted_key,
                      VerifyReport& report, const TrustedReference& reference = {});

// Verifies a JSON Lines export (FORMAT.md §6) against the ledger's public key
// and, when given, against the auditor's `reference`.
Status VerifyExport(std::istream& input, const NoteVerifier& key, VerifyReport& report,
                    const TrustedReference& reference = {});

}  // namespace attest::ledger
