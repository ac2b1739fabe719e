// Where a ledger's rows live. The Ledger class owns all hashing and
// validation; a store only keeps rows and answers reads, so another database
// can serve a verifier cluster later without touching the ledger's logic.
// A store is thread-compatible (one thread at a time); several processes may
// open the same store, and writes are serialized by WithTransaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/error.h"
#include "attest/ledger/entry.h"
#include "attest/ledger/merkle.h"

namespace attest::ledger {

struct StoredCheckpoint {
  std::uint64_t tree_size = 0;
  Hash root_hash{};
  std::string note;        // the signed note, exactly as issued
  std::string created_at;  // RFC 3339 UTC
};

// Reads entries in seq order. Next() returns false after the last one.
class EntryCursor {
 public:
  virtual ~EntryCursor() = default;
  virtual Result<bool> Next(Entry& entry) = 0;
};

// Reads stored interior Merkle nodes (level >= 1) in the order appends
// complete them: by last leaf covered, then by level.
class NodeCursor {
 public:
  virtual ~NodeCursor() = default;
  virtual Result<bool> Next(CompactRange::Node& node) = 0;
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  virtual Result<std::string> ReadMeta(const std::string& key) = 0;
  virtual Status WriteMeta(const std::string& key, const std::string& value) = 0;

  // The last entry's seq (0 when empty) and chain hash.
  struct Tip {
    std::uint64_t size = 0;
    Hash chain_hash = kGenesisChainHash;
  };
  virtual Result<Tip> ReadTip() = 0;
  virtual Result<Entry> ReadEntry(std::uint64_t seq) = 0;
  // Entries with first_seq <= seq <= last_seq.
  virtual Result<std::unique_ptr<EntryCursor>> ScanEntries(std::uint64_t first_seq,
                                                           std::uint64_t last_seq) = 0;
  // A perfect subtree hash; level 0 is an entry hash.
  virtual Result<Hash> ReadNode(int level, std::uint64_t index) = 0;
  virtual Result<std::unique_ptr<NodeCursor>> ScanNodes() = 0;

  virtual Result<std::optional<StoredCheckpoint>> LatestCheckpoint() = 0;
  virtual Result<std::optional<StoredCheckpoint>> CheckpointAt(std::uint64_t tree_size) = 0;
  virtual Result<std::vector<StoredCheckpoint>> AllCheckpoints() = 0;

  // Writes happen only inside `body`; all of them commit or none.
  virtual Status WithTransaction(const std::function<Status()>& body) = 0;
  virtual Status InsertEntry(const Entry& entry) = 0;
  virtual Status InsertNode(const CompactRange::Node& node) = 0;
  virtual Status InsertCheckpoint(const StoredCheckpoint& checkpoint) = 0;
};

}  // namespace attest::ledger
