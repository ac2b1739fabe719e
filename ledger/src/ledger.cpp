#include "attest/ledger/ledger.h"

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "attest/encoding.h"
#include "attest/ledger/postgres_ledger_store.h"
#include "attest/ledger/sqlite_ledger_store.h"

namespace attest::ledger {
namespace {

constexpr const char* kFormat = "attest-ledger-v1";

const Clock& DefaultClock() {
  static const SystemClock clock;
  return clock;
}

// The stored metadata, read back. A store that lacks it is no ledger (or one
// whose creation never finished): kCorrupt, not a missing record.
Result<std::string> ReadLedgerMeta(LedgerStore& store, const std::string& key) {
  auto value = store.ReadMeta(key);
  if (!value.ok() && value.error().code == ErrorCode::kNotFound) {
    return MakeError(ErrorCode::kCorrupt, "the store holds no ledger metadata \"" + key +
                                              "\": not an initialized ledger");
  }
  return value;
}

Result<NoteVerifier> ReadCheckpointKey(LedgerStore& store) {
  ATTEST_ASSIGN_OR_RETURN(std::string format, ReadLedgerMeta(store, "format"));
  if (format != kFormat) {
    return MakeError(ErrorCode::kUnsupported, "ledger format \"" + format + "\" is not " + kFormat);
  }
  ATTEST_ASSIGN_OR_RETURN(std::string vkey, ReadLedgerMeta(store, "checkpoint_key"));
  auto key = ParseVerifierKey(vkey);
  if (!key.ok()) return key.error().WithContext("the ledger's stored checkpoint key");
  return key;
}

const Clock* OrDefault(const Clock* clock) { return clock != nullptr ? clock : &DefaultClock(); }

// The prepared entries that are not among the ledger's entries after
// `after_size` (compared by kind, actor and payload), read in the caller's
// write transaction.
Result<std::vector<Entry*>> WithoutRepeats(LedgerStore& store, const TreeHead& head,
                                           std::uint64_t after_size, std::vector<Entry>& prepared) {
  if (after_size > head.size) {
    return MakeError(ErrorCode::kCorrupt, "the ledger holds " + std::to_string(head.size) +
                                              " entries, fewer than the " +
                                              std::to_string(after_size) + " its writer saw");
  }
  std::set<std::tuple<std::string, std::string, std::string>> present;
  if (after_size < head.size) {
    ATTEST_ASSIGN_OR_RETURN(auto cursor, store.ScanEntries(after_size + 1, head.size));
    Entry stored;
    while (true) {
      ATTEST_ASSIGN_OR_RETURN(bool has_entry, cursor->Next(stored));
      if (!has_entry) break;
      present.emplace(stored.content.kind, stored.content.actor, stored.content.payload);
    }
  }
  std::vector<Entry*> fresh;
  for (Entry& entry : prepared) {
    if (!present.contains({entry.content.kind, entry.content.actor, entry.content.payload})) {
      fresh.push_back(&entry);
    }
  }
  return fresh;
}

}  // namespace

Ledger::Ledger(std::unique_ptr<LedgerStore> store, NoteVerifier key, const Clock* clock)
    : store_(std::move(store)), checkpoint_key_(std::move(key)), clock_(clock) {}

Result<Ledger> Ledger::Initialize(std::unique_ptr<LedgerStore> store, std::string_view origin,
                                  const Ed25519PublicKey& checkpoint_key, const Clock* clock) {
  if (store == nullptr) return MakeError(ErrorCode::kInvalidArgument, "no ledger store");
  auto key = MakeNoteVerifier(origin, checkpoint_key);
  if (!key.ok()) return key.error().WithContext("ledger origin");
  Status written = store->WithWriteTransaction([&](const TreeHead& head) -> Status {
    if (head.size != 0) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "the store already holds " + std::to_string(head.size) + " entries");
    }
    ATTEST_RETURN_IF_ERROR(store->WriteMeta("format", kFormat));
    return store->WriteMeta("checkpoint_key", FormatVerifierKey(*key));
  });
  if (!written.ok()) return written.error().WithContext("initialize the ledger");
  return Ledger(std::move(store), std::move(key).value(), OrDefault(clock));
}

Result<Ledger> Ledger::FromStore(std::unique_ptr<LedgerStore> store, const Clock* clock) {
  if (store == nullptr) return MakeError(ErrorCode::kInvalidArgument, "no ledger store");
  ATTEST_ASSIGN_OR_RETURN(NoteVerifier key, ReadCheckpointKey(*store));
  return Ledger(std::move(store), std::move(key), OrDefault(clock));
}

Result<Ledger> Ledger::Create(const std::string& path, std::string_view origin,
                              const Ed25519PublicKey& checkpoint_key,
                              const LedgerOptions& options) {
  if (auto valid = MakeNoteVerifier(origin, checkpoint_key); !valid.ok()) {
    return valid.error().WithContext("ledger origin");  // before a file is made
  }
  ATTEST_ASSIGN_OR_RETURN(
      std::unique_ptr<LedgerStore> store,
      IsPostgresUrl(path)
          ? CreatePostgresLedgerStore(path, {.lock_timeout_ms = options.busy_timeout_ms})
          : CreateSqliteLedgerStore(path, {options.busy_timeout_ms, false}));
  return Initialize(std::move(store), origin, checkpoint_key, options.clock);
}

Result<Ledger> Ledger::Open(const std::string& path, const LedgerOptions& options) {
  if (IsPostgresUrl(path)) {
    ATTEST_ASSIGN_OR_RETURN(
        std::unique_ptr<LedgerStore> store,
        OpenPostgresLedgerStore(
            path, {.lock_timeout_ms = options.busy_timeout_ms, .read_only = options.read_only}));
    return FromStore(std::move(store), options.clock).WithContext("the PostgreSQL ledger");
  }
  ATTEST_ASSIGN_OR_RETURN(
      std::unique_ptr<LedgerStore> store,
      OpenSqliteLedgerStore(path, {options.busy_timeout_ms, options.read_only}));
  return FromStore(std::move(store), options.clock).WithContext(path);
}

NodeReader Ledger::Reader() {
  return [store = store_.get()](int level, std::uint64_t index) {
    return store->ReadNode(level, index);
  };
}

Result<std::uint64_t> Ledger::Size() {
  ATTEST_ASSIGN_OR_RETURN(TreeHead head, store_->ReadTreeHead());
  return head.size;
}

Result<AppendedEntry> Ledger::Append(const NewEntry& entry) {
  ATTEST_ASSIGN_OR_RETURN(std::vector<AppendedEntry> appended,
                          AppendBatch(std::span<const NewEntry>(&entry, 1)));
  return appended.front();
}

Result<std::vector<AppendedEntry>> Ledger::AppendBatch(std::span<const NewEntry> entries) {
  return AppendEntries(entries, std::nullopt);
}

Result<std::vector<AppendedEntry>> Ledger::AppendBatchOnce(std::span<const NewEntry> entries,
                                                           std::uint64_t after_size) {
  return AppendEntries(entries, after_size);
}

Result<std::vector<AppendedEntry>> Ledger::AppendEntries(
    std::span<const NewEntry> entries, std::optional<std::uint64_t> skip_repeats_after) {
  // Validation and canonicalization happen before the write lock is taken.
  std::vector<Entry> prepared(entries.size());
  const TimePoint now = clock_->Now();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto content = PrepareEntry(entries[i], now);
    if (!content.ok()) {
      return entries.size() == 1
                 ? content.error()
                 : content.error().WithContext("entry " + std::to_string(i + 1) + " of the batch");
    }
    prepared[i].content = std::move(content).value();
  }

  std::vector<AppendedEntry> appended;
  appended.reserve(prepared.size());
  Status written = store_->WithWriteTransaction([&](const TreeHead& head) -> Status {
    appended.clear();
    std::vector<Entry*> to_write;
    if (skip_repeats_after) {
      ATTEST_ASSIGN_OR_RETURN(to_write,
                              WithoutRepeats(*store_, head, *skip_repeats_after, prepared));
    } else {
      for (Entry& entry : prepared) to_write.push_back(&entry);
    }
    ATTEST_ASSIGN_OR_RETURN(CompactRange range, CompactRange::Load(head.size, Reader()));
    auto sink = [this](const CompactRange::Node& node) { return store_->InsertNode(node); };
    Sha256 hasher;
    Hash chain = head.chain_hash;
    for (Entry* pointer : to_write) {
      Entry& entry = *pointer;
      entry.seq = range.size() + 1;
      entry.entry_hash = ComputeEntryHash(entry.seq, entry.content, hasher);
      entry.chain_hash = ComputeChainHash(chain, entry.entry_hash, hasher);
      chain = entry.chain_hash;
      ATTEST_RETURN_IF_ERROR(store_->InsertEntry(entry));
      ATTEST_RETURN_IF_ERROR(range.Append(entry.entry_hash, sink));
      appended.push_back({entry.seq, entry.entry_hash, entry.chain_hash});
    }
    return OkStatus();
  });
  if (!written.ok()) return written.error().WithContext("append");
  return appended;
}

Result<Entry> Ledger::Get(std::uint64_t seq) { return store_->ReadEntry(seq); }

Status Ledger::CheckSize(std::uint64_t tree_size, std::uint64_t current) {
  if (tree_size > current) {
    return MakeError(ErrorCode::kInvalidArgument, "tree size " + std::to_string(tree_size) +
                                                      " is larger than the ledger (" +
                                                      std::to_string(current) + " entries)");
  }
  return OkStatus();
}

Result<Hash> Ledger::RootAt(std::uint64_t tree_size) {
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t current, Size());
  ATTEST_RETURN_IF_ERROR(CheckSize(tree_size, current));
  return RootFromStore(tree_size, Reader());
}

Result<std::vector<Hash>> Ledger::ProveInclusion(std::uint64_t seq, std::uint64_t tree_size) {
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t current, Size());
  ATTEST_RETURN_IF_ERROR(CheckSize(tree_size, current));
  if (seq == 0 || seq > tree_size) {
    return MakeError(ErrorCode::kInvalidArgument, "entry " + std::to_string(seq) +
                                                      " is not in the tree of size " +
                                                      std::to_string(tree_size));
  }
  return InclusionProof(seq - 1, tree_size, Reader());
}

Result<std::vector<Hash>> Ledger::ProveConsistency(std::uint64_t old_size, std::uint64_t new_size) {
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t current, Size());
  ATTEST_RETURN_IF_ERROR(CheckSize(new_size, current));
  return ConsistencyProof(old_size, new_size, Reader());
}

Result<StoredCheckpoint> Ledger::SignCheckpoint(const NoteSigner& signer) {
  if (signer.name != checkpoint_key_.name ||
      signer.key.public_key() != checkpoint_key_.public_key) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the signing key " + DescribeKey(signer.name, signer.key_id) +
                         " is not this ledger's checkpoint key " +
                         DescribeKey(checkpoint_key_.name, checkpoint_key_.key_id));
  }
  StoredCheckpoint result;
  Status written = store_->WithWriteTransaction([&](const TreeHead& head) -> Status {
    ATTEST_ASSIGN_OR_RETURN(std::optional<StoredCheckpoint> existing,
                            store_->CheckpointAt(head.size));
    if (existing) {
      result = std::move(*existing);
      return OkStatus();
    }
    ATTEST_ASSIGN_OR_RETURN(Hash root, RootFromStore(head.size, Reader()));
    Checkpoint checkpoint{checkpoint_key_.name, head.size, root};
    ATTEST_ASSIGN_OR_RETURN(std::string note, SignNote(FormatCheckpointText(checkpoint), signer));
    result = StoredCheckpoint{head.size, root, std::move(note), FormatRfc3339Utc(clock_->Now())};
    return store_->InsertCheckpoint(result);
  });
  if (!written.ok()) return written.error().WithContext("checkpoint");
  return result;
}

Result<std::optional<StoredCheckpoint>> Ledger::LatestCheckpoint() {
  return store_->LatestCheckpoint();
}

}  // namespace attest::ledger
