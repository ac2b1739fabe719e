// The audit ledger: append-only, hash-chained, Merkle-proved (DESIGN.md §6,
// FORMAT.md), over any LedgerStore. One Ledger object is one store
// connection: use it from one thread at a time. Any number of processes may
// open the same ledger; their appends are serialized by the store's write
// lock and none is lost.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attest/clock.h"
#include "attest/error.h"
#include "attest/ledger/checkpoint.h"
#include "attest/ledger/entry.h"
#include "attest/ledger/ledger_store.h"
#include "attest/ledger/note.h"

namespace attest::ledger {

// For Create and Open, the SQLite convenience path.
struct LedgerOptions {
  const Clock* clock = nullptr;  // the system clock when null
  int busy_timeout_ms = 30000;   // how long an appender waits for another's lock
  bool read_only = false;
};

struct AppendedEntry {
  std::uint64_t seq = 0;
  Hash entry_hash{};
  Hash chain_hash{};
};

class Ledger {
 public:
  // Makes a new, empty store the ledger named `origin`, whose checkpoints
  // `checkpoint_key` signs, by writing its metadata. `clock` stamps entries
  // and checkpoints; the system clock when null.
  static Result<Ledger> Initialize(std::unique_ptr<LedgerStore> store, std::string_view origin,
                                   const Ed25519PublicKey& checkpoint_key,
                                   const Clock* clock = nullptr);
  // The ledger a store already holds (one Initialize wrote, in any process).
  static Result<Ledger> FromStore(std::unique_ptr<LedgerStore> store, const Clock* clock = nullptr);

  // The same over a SQLite file (sqlite_ledger_store.h): Create makes a new
  // database at `path`, which must not exist; Open opens an existing one.
  // A postgresql:// URL for `path` names a PostgreSQL database instead
  // (postgres_ledger_store.h): Create makes the ledger's tables in it.
  static Result<Ledger> Create(const std::string& path, std::string_view origin,
                               const Ed25519PublicKey& checkpoint_key,
                               const LedgerOptions& options = {});
  static Result<Ledger> Open(const std::string& path, const LedgerOptions& options = {});

  const NoteVerifier& checkpoint_key() const { return checkpoint_key_; }
  const std::string& origin() const { return checkpoint_key_.name; }
  LedgerStore& store() { return *store_; }

  Result<std::uint64_t> Size();
  Result<AppendedEntry> Append(const NewEntry& entry);
  // All entries in one transaction (group commit): all are appended, with
  // consecutive seqs, or none is.
  Result<std::vector<AppendedEntry>> AppendBatch(std::span<const NewEntry> entries);
  // AppendBatch for a writer that may be repeating itself (the verifier's
  // outbox drain): inside the append's transaction, holding the lock every
  // appender takes, the entries after `after_size` are read, and those of
  // `entries` equal to one of them (kind, actor, payload) are left out. So
  // an append of the same entries still in flight elsewhere is waited for
  // and seen, never repeated. Returns what it appended.
  Result<std::vector<AppendedEntry>> AppendBatchOnce(std::span<const NewEntry> entries,
                                                     std::uint64_t after_size);

  Result<Entry> Get(std::uint64_t seq);
  Result<Hash> RootAt(std::uint64_t tree_size);
  // The inclusion proof for entry `seq` in the tree of `tree_size` entries.
  Result<std::vector<Hash>> ProveInclusion(std::uint64_t seq, std::uint64_t tree_size);
  Result<std::vector<Hash>> ProveConsistency(std::uint64_t old_size, std::uint64_t new_size);

  // Signs and stores a checkpoint of the current tree, or returns the stored
  // one when nothing was appended since. `signer` must be this ledger's key.
  Result<StoredCheckpoint> SignCheckpoint(const NoteSigner& signer);
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint();

 private:
  Ledger(std::unique_ptr<LedgerStore> store, NoteVerifier key, const Clock* clock);
  Result<std::vector<AppendedEntry>> AppendEntries(std::span<const NewEntry> entries,
                                                   std::optional<std::uint64_t> skip_repeats_after);
  NodeReader Reader();
  Status CheckSize(std::uint64_t tree_size, std::uint64_t current);

  std::unique_ptr<LedgerStore> store_;
  NoteVerifier checkpoint_key_;
  const Clock* clock_;
};

}  // namespace attest::ledger
