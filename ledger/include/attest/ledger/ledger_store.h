// Where a ledger's rows live: the interface a database implements to hold a
// ledger (SQLite today; PostgreSQL for a cluster of verifiers). The Ledger
// owns all hashing and validation; a store keeps rows, answers point reads,
// and serialises writers. Build a Ledger over any store with
// Ledger::Initialize and Ledger::FromStore (ledger.h).
//
// Concurrency: one store object is one connection, used by one thread at a
// time. Any number of connections, from any number of processes or machines,
// may share one store: nothing here assumes exclusive access, and a store
// caches nothing another connection can change.
//
// Errors, with attest::Error codes:
//   kNotFound          ReadEntry or ReadMeta of something never written
//   kAlreadyExists     an Insert or WriteMeta of a key already stored
//   kCorrupt           a stored row fails its own structure checks, or a row
//                      the tree needs is missing
//   kBusy              the write lock or a connection was not had in time;
//                      retrying may succeed, and nothing was written
//   kPermissionDenied  the database refuses this user (or a read-only store
//                      was asked to write)
//   kIo                the storage underneath failed
//   kDatabase          any other failure the database engine reports
// A write transaction that fails, for any of these, leaves nothing of itself,
// with one exception: when the connection to a database server dies after
// the commit was sent, the outcome is unknown, and the transaction may have
// committed. A store finds out when it can (PostgreSQL: by looking for the
// transaction's last row on a new connection); when it cannot, it fails with
// kIo and an sqlstate of 08007 (pg::IsCommitOutcomeUnknown). A caller must
// not simply retry such a write: it reads the ledger first (an append may be
// there, at the next seq after the head it built on).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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

// The last entry's seq (0 when the ledger is empty) and chain hash: what the
// next append builds on, and what the write lock guards.
struct TreeHead {
  std::uint64_t size = 0;
  Hash chain_hash = kGenesisChainHash;
};

// Reads entries in seq order. Next() returns false after the last one. A
// kCorrupt error describes one damaged row and moves past it, so a verifier
// can report the row and read on; any other error ends the scan.
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

  // Writes happen only inside a write transaction. Before `body` runs, the
  // store starts a transaction and takes the ledger's one write lock, the
  // lock on the tree head (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ...
  // FOR UPDATE of the head row), waiting for another writer up to the store's
  // timeout (then kBusy). `head` is read under that lock, so writers in any
  // process run one after another and each builds on the last one's head.
  // All of body's writes commit, or, when body returns an error, throws, or
  // the commit fails, none does. Not reentrant.
  virtual Status WithWriteTransaction(const std::function<Status(const TreeHead& head)>& body) = 0;

  // Runs `body` with every read inside it seeing one committed state of the
  // store, however many writers commit meanwhile (SQLite: a read
  // transaction; PostgreSQL: REPEATABLE READ). Cursors opened inside `body`
  // must be finished inside it. Reads outside a transaction see the latest
  // committed state, each on its own. Not reentrant.
  virtual Status WithReadSnapshot(const std::function<Status()>& body) = 0;

  // Ledger metadata ("format", "checkpoint_key"), written once at creation.
  virtual Result<std::string> ReadMeta(const std::string& key) = 0;
  virtual Status WriteMeta(const std::string& key, const std::string& value) = 0;
  // Every metadata row, ordered by key: what a copy of the ledger takes
  // along (copy.h), whatever keys a ledger holds.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ReadAllMeta() = 0;

  virtual Result<TreeHead> ReadTreeHead() = 0;
  virtual Result<Entry> ReadEntry(std::uint64_t seq) = 0;
  // Entries with first_seq <= seq <= last_seq.
  virtual Result<std::unique_ptr<EntryCursor>> ScanEntries(std::uint64_t first_seq,
                                                           std::uint64_t last_seq) = 0;
  // A perfect subtree hash; level 0 is the hash of entry index + 1. A point
  // read by key: a proof makes O(log n) of them, so a store answers each from
  // an index, never a scan. A node the tree should have but the store lacks
  // is kCorrupt.
  virtual Result<Hash> ReadNode(int level, std::uint64_t index) = 0;
  virtual Result<std::unique_ptr<NodeCursor>> ScanNodes() = 0;

  virtual Result<std::optional<StoredCheckpoint>> LatestCheckpoint() = 0;
  virtual Result<std::optional<StoredCheckpoint>> CheckpointAt(std::uint64_t tree_size) = 0;
  virtual Result<std::vector<StoredCheckpoint>> AllCheckpoints() = 0;

  // Inside WithWriteTransaction only. Entries go in seq order, each the
  // head's size + 1; ReadTreeHead in the same transaction then reports it.
  virtual Status InsertEntry(const Entry& entry) = 0;
  virtual Status InsertNode(const CompactRange::Node& node) = 0;
  virtual Status InsertCheckpoint(const StoredCheckpoint& checkpoint) = 0;
};

}  // namespace attest::ledger
