// The conformance tests every LedgerStore passes (store_conformance.h): rows
// read back as written, the tree head, transactions that leave nothing when
// they fail, duplicate keys, the write lock across connections, read
// snapshots, reopening, and a Ledger built over the store.
#include "store_conformance.h"

#include <chrono>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "attest/ed25519.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/verify.h"

namespace attest::ledger::test {

void LedgerStoreConformance::SetUp() {
  backend_ = GetParam().make();
  ASSERT_NE(backend_, nullptr);
  auto store = backend_->Create();
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  store_ = std::move(store).value();
}

std::unique_ptr<LedgerStore> LedgerStoreConformance::Connect() {
  auto store = backend_->Connect();
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

namespace {

// Entry `seq` after `previous_chain`, with real hashes; even seqs are signed.
Entry MakeRow(std::uint64_t seq, const Hash& previous_chain) {
  Entry entry;
  entry.seq = seq;
  entry.content.time = "2026-01-02T03:04:05.000006Z";
  entry.content.kind = "config.changed";
  entry.content.actor = "conformance";
  entry.content.payload = "{\"n\":" + std::to_string(seq) + "}";
  if (seq % 2 == 0) {
    EntrySignature signature{};
    signature.public_key.fill(static_cast<std::uint8_t>(seq));
    signature.signature.fill(static_cast<std::uint8_t>(seq + 1));
    entry.content.signature = signature;
  }
  entry.entry_hash = ComputeEntryHash(seq, entry.content);
  Sha256 hasher;
  entry.chain_hash = ComputeChainHash(previous_chain, entry.entry_hash, hasher);
  return entry;
}

// `count` rows after the store's head, in one committed transaction; the
// Merkle nodes are not written (the store does not compute them).
std::vector<Entry> AppendRows(LedgerStore& store, std::uint64_t count) {
  std::vector<Entry> rows;
  Status written = store.WithWriteTransaction([&](const TreeHead& head) -> Status {
    rows.clear();
    Hash chain = head.chain_hash;
    for (std::uint64_t seq = head.size + 1; seq <= head.size + count; ++seq) {
      rows.push_back(MakeRow(seq, chain));
      chain = rows.back().chain_hash;
      ATTEST_RETURN_IF_ERROR(store.InsertEntry(rows.back()));
    }
    return OkStatus();
  });
  EXPECT_TRUE(written.ok()) << written.error().ToString();
  return rows;
}

void ExpectSameEntry(const Entry& actual, const Entry& expected) {
  EXPECT_EQ(actual.seq, expected.seq);
  EXPECT_EQ(actual.content.time, expected.content.time);
  EXPECT_EQ(actual.content.kind, expected.content.kind);
  EXPECT_EQ(actual.content.actor, expected.content.actor);
  EXPECT_EQ(actual.content.payload, expected.content.payload);
  ASSERT_EQ(actual.content.signature.has_value(), expected.content.signature.has_value())
      << "seq " << expected.seq;
  if (expected.content.signature) {
    EXPECT_EQ(actual.content.signature->public_key, expected.content.signature->public_key);
    EXPECT_EQ(actual.content.signature->signature, expected.content.signature->signature);
  }
  EXPECT_EQ(actual.entry_hash, expected.entry_hash);
  EXPECT_EQ(actual.chain_hash, expected.chain_hash);
}

std::vector<Entry> ScanAll(LedgerStore& store, std::uint64_t first, std::uint64_t last) {
  std::vector<Entry> entries;
  auto cursor = store.ScanEntries(first, last);
  EXPECT_TRUE(cursor.ok()) << cursor.error().ToString();
  if (!cursor.ok()) return entries;
  Entry entry;
  while (true) {
    auto next = (*cursor)->Next(entry);
    EXPECT_TRUE(next.ok()) << next.error().ToString();
    if (!next.ok() || !*next) break;
    entries.push_back(entry);
  }
  return entries;
}

// The error code of a failed read, or nothing when it succeeded.
template <typename T>
std::optional<ErrorCode> ErrorOf(const Result<T>& result) {
  if (result.ok()) return std::nullopt;
  return result.error().code;
}

Hash Filled(std::uint8_t byte) {
  Hash hash{};
  hash.fill(byte);
  return hash;
}

StoredCheckpoint MakeCheckpoint(std::uint64_t size) {
  return StoredCheckpoint{size, Filled(static_cast<std::uint8_t>(0x40 + size)),
                          "note for size " + std::to_string(size) + "\n", "2026-01-02T03:04:05Z"};
}

// Every kind of row, once, inside the caller's write transaction.
Status WriteOneOfEach(LedgerStore& store, const TreeHead& head) {
  ATTEST_RETURN_IF_ERROR(store.WriteMeta("format", "test"));
  ATTEST_RETURN_IF_ERROR(store.InsertEntry(MakeRow(head.size + 1, head.chain_hash)));
  ATTEST_RETURN_IF_ERROR(store.InsertNode({1, head.size / 2, Filled(0x11)}));
  return store.InsertCheckpoint(MakeCheckpoint(head.size + 1));
}

// What an empty store answers, whichever connection asks.
void ExpectEmpty(LedgerStore& store) {
  auto head = store.ReadTreeHead();
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(head->size, 0u);
  EXPECT_EQ(head->chain_hash, kGenesisChainHash);
  auto entry = store.ReadEntry(1);
  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.error().code, ErrorCode::kNotFound);
  auto meta = store.ReadMeta("format");
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.error().code, ErrorCode::kNotFound);
  auto all_meta = store.ReadAllMeta();
  ASSERT_TRUE(all_meta.ok()) << all_meta.error().ToString();
  EXPECT_TRUE(all_meta->empty());
  auto node = store.ReadNode(1, 0);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().code, ErrorCode::kCorrupt);
  EXPECT_FALSE(store.LatestCheckpoint().value().has_value());
  EXPECT_TRUE(store.AllCheckpoints().value().empty());
  EXPECT_TRUE(ScanAll(store, 1, 100).empty());
  auto nodes = store.ScanNodes();
  ASSERT_TRUE(nodes.ok());
  CompactRange::Node stored{};
  EXPECT_FALSE((*nodes)->Next(stored).value());
}

}  // namespace

TEST_P(LedgerStoreConformance, AnEmptyStoreHasTheGenesisHeadAndNoRows) { ExpectEmpty(*store_); }

TEST_P(LedgerStoreConformance, RowsReadBackAsWritten) {
  std::vector<Entry> rows = AppendRows(*store_, 5);
  ASSERT_EQ(rows.size(), 5u);
  const std::vector<CompactRange::Node> nodes = {
      {1, 0, Filled(1)}, {1, 1, Filled(2)}, {2, 0, Filled(3)}};
  ASSERT_TRUE(store_
                  ->WithWriteTransaction([&](const TreeHead&) -> Status {
                    ATTEST_RETURN_IF_ERROR(store_->WriteMeta("format", "attest-ledger-v1"));
                    for (const auto& node : nodes) ATTEST_RETURN_IF_ERROR(store_->InsertNode(node));
                    ATTEST_RETURN_IF_ERROR(store_->InsertCheckpoint(MakeCheckpoint(4)));
                    return store_->InsertCheckpoint(MakeCheckpoint(2));
                  })
                  .ok());

  TreeHead head = store_->ReadTreeHead().value();
  EXPECT_EQ(head.size, 5u);
  EXPECT_EQ(head.chain_hash, rows.back().chain_hash);
  EXPECT_EQ(store_->ReadMeta("format").value(), "attest-ledger-v1");
  for (const Entry& row : rows) {
    auto read = store_->ReadEntry(row.seq);
    ASSERT_TRUE(read.ok()) << read.error().ToString();
    ExpectSameEntry(*read, row);
    EXPECT_EQ(store_->ReadNode(0, row.seq - 1).value(), row.entry_hash);
  }
  std::vector<Entry> middle = ScanAll(*store_, 2, 4);
  ASSERT_EQ(middle.size(), 3u);
  for (std::size_t i = 0; i < middle.size(); ++i) ExpectSameEntry(middle[i], rows[i + 1]);
  EXPECT_EQ(ScanAll(*store_, 1, std::numeric_limits<std::int64_t>::max()).size(), 5u);

  for (const auto& node : nodes)
    EXPECT_EQ(store_->ReadNode(node.level, node.index).value(), node.hash);
  // Scanned in completion order: (1,0) covers leaf 1, (1,1) then (2,0) leaf 3.
  auto cursor = store_->ScanNodes();
  ASSERT_TRUE(cursor.ok());
  for (const auto& expected : nodes) {
    CompactRange::Node node{};
    ASSERT_TRUE((*cursor)->Next(node).value());
    EXPECT_EQ(node.level, expected.level);
    EXPECT_EQ(node.index, expected.index);
    EXPECT_EQ(node.hash, expected.hash);
  }
  CompactRange::Node past{};
  EXPECT_FALSE((*cursor)->Next(past).value());

  auto at = store_->CheckpointAt(2).value();
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(at->root_hash, MakeCheckpoint(2).root_hash);
  EXPECT_EQ(at->note, MakeCheckpoint(2).note);
  EXPECT_EQ(at->created_at, MakeCheckpoint(2).created_at);
  EXPECT_FALSE(store_->CheckpointAt(3).value().has_value());
  EXPECT_EQ(store_->LatestCheckpoint().value()->tree_size, 4u);
  std::vector<StoredCheckpoint> all = store_->AllCheckpoints().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].tree_size, 2u);
  EXPECT_EQ(all[1].tree_size, 4u);
}

TEST_P(LedgerStoreConformance, ReadAllMetaListsEveryKeyInByteOrder) {
  // Upper case sorts before lower case byte-wise, whatever a locale says.
  ASSERT_TRUE(store_
                  ->WithWriteTransaction([&](const TreeHead&) -> Status {
                    ATTEST_RETURN_IF_ERROR(store_->WriteMeta("format", "attest-ledger-v1"));
                    ATTEST_RETURN_IF_ERROR(store_->WriteMeta("checkpoint_key", "k+1+AA=="));
                    return store_->WriteMeta("Zeta", "");
                  })
                  .ok());
  auto meta = Connect()->ReadAllMeta();
  ASSERT_TRUE(meta.ok()) << meta.error().ToString();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Zeta", ""}, {"checkpoint_key", "k+1+AA=="}, {"format", "attest-ledger-v1"}};
  EXPECT_EQ(*meta, expected);
}

TEST_P(LedgerStoreConformance, AWriteSeesItsOwnRowsAndBuildsOnTheLastCommit) {
  AppendRows(*store_, 2);
  std::vector<Entry> added;
  ASSERT_TRUE(store_
                  ->WithWriteTransaction([&](const TreeHead& head) -> Status {
                    EXPECT_EQ(head.size, 2u);
                    added.push_back(MakeRow(3, head.chain_hash));
                    ATTEST_RETURN_IF_ERROR(store_->InsertEntry(added.back()));
                    ATTEST_ASSIGN_OR_RETURN(TreeHead now, store_->ReadTreeHead());
                    EXPECT_EQ(now.size, 3u);
                    EXPECT_EQ(now.chain_hash, added.back().chain_hash);
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(Connect()->ReadTreeHead().value().size, 3u);
}

TEST_P(LedgerStoreConformance, AFailedWriteLeavesNothing) {
  Status failed = store_->WithWriteTransaction([&](const TreeHead& head) -> Status {
    ATTEST_RETURN_IF_ERROR(WriteOneOfEach(*store_, head));
    return MakeError(ErrorCode::kInternal, "the caller gives up");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kInternal);
  ExpectEmpty(*store_);
  ExpectEmpty(*Connect());
}

TEST_P(LedgerStoreConformance, AThrowingWriteLeavesNothingAndTheStoreStaysUsable) {
  EXPECT_THROW((void)store_->WithWriteTransaction([&](const TreeHead& head) -> Status {
    EXPECT_TRUE(WriteOneOfEach(*store_, head).ok());
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  ExpectEmpty(*store_);
  ExpectEmpty(*Connect());
  EXPECT_EQ(AppendRows(*store_, 1).size(), 1u);
  EXPECT_EQ(Connect()->ReadTreeHead().value().size, 1u);
}

TEST_P(LedgerStoreConformance, ADuplicateKeyIsAlreadyExistsAndUndoesItsTransaction) {
  std::vector<Entry> rows = AppendRows(*store_, 1);
  ASSERT_TRUE(store_
                  ->WithWriteTransaction(
                      [&](const TreeHead& head) -> Status { return WriteOneOfEach(*store_, head); })
                  .ok());
  // Each kind of row again, after a fresh entry that must not survive.
  using Write = std::function<Status()>;
  const std::vector<std::pair<const char*, Write>> duplicates = {
      {"entry", [&] { return store_->InsertEntry(rows[0]); }},
      {"node",
       [&] {
         return store_->InsertNode({1, 0, Filled(0x22)});
       }},
      {"checkpoint", [&] { return store_->InsertCheckpoint(MakeCheckpoint(2)); }},
      {"metadata", [&] { return store_->WriteMeta("format", "other"); }},
  };
  for (const auto& duplicate : duplicates) {
    // Not a structured binding: clang 14 cannot capture one in the lambda.
    const char* what = duplicate.first;
    const Write& write = duplicate.second;
    Status status = store_->WithWriteTransaction([&](const TreeHead& head) -> Status {
      ATTEST_RETURN_IF_ERROR(store_->InsertEntry(MakeRow(head.size + 1, head.chain_hash)));
      return write();
    });
    ASSERT_FALSE(status.ok()) << what;
    EXPECT_EQ(status.error().code, ErrorCode::kAlreadyExists)
        << what << ": " << status.error().ToString();
    EXPECT_EQ(store_->ReadTreeHead().value().size, 2u) << what;
    EXPECT_EQ(ErrorOf(store_->ReadEntry(3)), ErrorCode::kNotFound) << what;
  }
  EXPECT_EQ(store_->ReadNode(1, 0).value(), Filled(0x11));
  EXPECT_EQ(store_->CheckpointAt(2).value()->root_hash, MakeCheckpoint(2).root_hash);
  EXPECT_EQ(store_->ReadMeta("format").value(), "test");
}

TEST_P(LedgerStoreConformance, AMissingNodeIsCorrupt) {
  AppendRows(*store_, 2);
  auto interior = store_->ReadNode(1, 0);  // the tree has it; nobody stored it
  ASSERT_FALSE(interior.ok());
  EXPECT_EQ(interior.error().code, ErrorCode::kCorrupt);
  auto leaf = store_->ReadNode(0, 2);  // beyond the last entry
  ASSERT_FALSE(leaf.ok());
  EXPECT_EQ(leaf.error().code, ErrorCode::kCorrupt);
}

TEST_P(LedgerStoreConformance, CommittedRowsOutliveTheConnection) {
  std::vector<Entry> rows = AppendRows(*store_, 3);
  ASSERT_TRUE(store_
                  ->WithWriteTransaction([&](const TreeHead&) -> Status {
                    ATTEST_RETURN_IF_ERROR(store_->InsertNode({1, 0, Filled(7)}));
                    return store_->InsertCheckpoint(MakeCheckpoint(3));
                  })
                  .ok());
  store_.reset();
  std::unique_ptr<LedgerStore> reopened = Connect();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->ReadTreeHead().value().chain_hash, rows.back().chain_hash);
  ExpectSameEntry(reopened->ReadEntry(2).value(), rows[1]);
  EXPECT_EQ(reopened->ReadNode(1, 0).value(), Filled(7));
  EXPECT_EQ(reopened->LatestCheckpoint().value()->tree_size, 3u);
}

// The head lock: a second writer cannot read the head until the first
// commits, so it builds on the first one's entry instead of beside it.
TEST_P(LedgerStoreConformance, AWriterWaitsForTheHeadLockAndSeesTheCommittedHead) {
  std::unique_ptr<LedgerStore> other = Connect();
  ASSERT_NE(other, nullptr);
  std::promise<void> first_holds_lock;
  std::promise<void> second_started;
  std::future<Status> second;
  Status first = store_->WithWriteTransaction([&](const TreeHead& head) -> Status {
    first_holds_lock.set_value();
    second = std::async(std::launch::async, [&] {
      second_started.set_value();
      return other->WithWriteTransaction([&](const TreeHead& seen) -> Status {
        EXPECT_EQ(seen.size, 1u) << "the second writer read the head under the first's lock";
        return other->InsertEntry(MakeRow(seen.size + 1, seen.chain_hash));
      });
    });
    second_started.get_future().wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it reach the lock
    return store_->InsertEntry(MakeRow(head.size + 1, head.chain_hash));
  });
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  Status second_status = second.get();
  ASSERT_TRUE(second_status.ok()) << second_status.error().ToString();
  TreeHead head = store_->ReadTreeHead().value();
  EXPECT_EQ(head.size, 2u);
  Entry one = store_->ReadEntry(1).value();
  EXPECT_EQ(store_->ReadEntry(2).value().chain_hash, MakeRow(2, one.chain_hash).chain_hash);
}

TEST_P(LedgerStoreConformance, AReadSnapshotIgnoresLaterCommits) {
  AppendRows(*store_, 2);
  std::unique_ptr<LedgerStore> writer = Connect();
  ASSERT_NE(writer, nullptr);
  Status read = store_->WithReadSnapshot([&]() -> Status {
    EXPECT_EQ(store_->ReadTreeHead().value().size, 2u);
    EXPECT_EQ(AppendRows(*writer, 3).size(), 3u);  // commits meanwhile
    EXPECT_EQ(store_->ReadTreeHead().value().size, 2u);
    EXPECT_EQ(ScanAll(*store_, 1, 100).size(), 2u);
    EXPECT_EQ(ErrorOf(store_->ReadEntry(3)), ErrorCode::kNotFound);
    return OkStatus();
  });
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(store_->ReadTreeHead().value().size, 5u);
}

// AppendBatchOnce leaves out what the ledger holds after `after_size`
// (kind, actor and payload alike), never what it holds before, and refuses
// a size the ledger never had.
TEST_P(LedgerStoreConformance, AppendBatchOnceLeavesOutOnlyEntriesAlreadyAppendedAfterTheSize) {
  auto key = Ed25519PrivateKey::Generate().value();
  auto ledger = Ledger::Initialize(std::move(store_), "conformance.example/once", key.public_key());
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  auto entry = [](int n, std::string_view actor = "verifier") {
    return NewEntry{"config.changed", std::string(actor), "{\"n\":" + std::to_string(n) + "}", {}};
  };
  ASSERT_TRUE(ledger->Append(entry(1)).ok());                  // before the size: never consulted
  ASSERT_TRUE(ledger->Append(entry(2)).ok());                  // after it: a repeat
  ASSERT_TRUE(ledger->Append(entry(3, "someone-else")).ok());  // another actor: not a repeat

  std::vector<NewEntry> batch = {entry(1), entry(2), entry(3), entry(4)};
  auto appended = ledger->AppendBatchOnce(batch, 1);
  ASSERT_TRUE(appended.ok()) << appended.error().ToString();
  ASSERT_EQ(appended->size(), 3u);
  EXPECT_EQ((*appended)[0].seq, 4u);
  std::vector<std::string> payloads;
  for (std::uint64_t seq = 4; seq <= 6; ++seq)
    payloads.push_back(ledger->Get(seq)->content.payload);
  EXPECT_EQ(payloads, (std::vector<std::string>{"{\"n\":1}", "{\"n\":3}", "{\"n\":4}"}));

  auto again = ledger->AppendBatchOnce(batch, 1);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(again->empty()) << "everything is there now";
  EXPECT_EQ(ledger->Size().value(), 6u);

  auto beyond = ledger->AppendBatchOnce(batch, 7);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(ledger->Size().value(), 6u);
}

TEST_P(LedgerStoreConformance, ALedgerOverTheStoreAppendsProvesAndReopens) {
  auto key = Ed25519PrivateKey::Generate().value();
  const Ed25519PublicKey public_key = key.public_key();
  const std::string origin = "conformance.example/ledger";
  NoteSigner signer{origin, NoteKeyId(origin, public_key), std::move(key)};

  auto uninitialized = Ledger::FromStore(Connect());
  ASSERT_FALSE(uninitialized.ok());
  EXPECT_EQ(uninitialized.error().code, ErrorCode::kCorrupt);

  auto ledger = Ledger::Initialize(std::move(store_), origin, public_key);
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  std::vector<NewEntry> batch;
  for (int n = 0; n < 7; ++n) {
    batch.push_back(NewEntry{"config.changed", "test", "{\"n\":" + std::to_string(n) + "}", {}});
  }
  ASSERT_TRUE(ledger->AppendBatch(batch).ok());
  auto checkpoint = ledger->SignCheckpoint(signer);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().ToString();

  auto again = Ledger::Initialize(Connect(), origin, public_key);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);

  auto reopened = Ledger::FromStore(Connect());
  ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
  EXPECT_EQ(reopened->origin(), origin);
  EXPECT_EQ(reopened->checkpoint_key().public_key, public_key);
  EXPECT_EQ(reopened->Size().value(), 7u);
  Hash root = reopened->RootAt(7).value();
  EXPECT_EQ(root, checkpoint->root_hash);
  Entry third = reopened->Get(3).value();
  auto proof = reopened->ProveInclusion(3, 7);
  ASSERT_TRUE(proof.ok()) << proof.error().ToString();
  EXPECT_TRUE(VerifyInclusion(2, 7, third.entry_hash, *proof, root).ok());

  VerifyReport report;
  ASSERT_TRUE(VerifyDatabase(*reopened, MakeNoteVerifier(origin, public_key).value(), report).ok());
  EXPECT_TRUE(report.ok()) << report.problems().front().what;
  EXPECT_EQ(report.entries, 7u);
  EXPECT_EQ(report.checkpoints_verified, 1u);
}

// Appenders on their own connections, at once: one sequence, nothing lost.
TEST_P(LedgerStoreConformance, LedgersOnSeveralConnectionsAppendOneSequence) {
  auto key = Ed25519PrivateKey::Generate().value();
  const std::string origin = "conformance.example/ledger";
  ASSERT_TRUE(Ledger::Initialize(std::move(store_), origin, key.public_key()).ok());
  constexpr int kWriters = 3;
  constexpr int kPerWriter = 40;
  std::vector<std::future<Status>> writers;
  for (int writer = 0; writer < kWriters; ++writer) {
    auto ledger = Ledger::FromStore(Connect());
    ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
    writers.push_back(std::async(
        std::launch::async, [writer, ledger = std::move(ledger).value()]() mutable -> Status {
          for (int n = 0; n < kPerWriter; ++n) {
            std::string payload =
                "{\"n\":" + std::to_string(n) + ",\"writer\":" + std::to_string(writer) + "}";
            ATTEST_RETURN_IF_ERROR(ledger.Append(NewEntry{"config.changed", "test", payload, {}}));
          }
          return OkStatus();
        }));
  }
  for (auto& writer : writers) {
    Status status = writer.get();
    EXPECT_TRUE(status.ok()) << status.error().ToString();
  }
  auto ledger = Ledger::FromStore(Connect());
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->Size().value(), static_cast<std::uint64_t>(kWriters * kPerWriter));
  VerifyReport report;
  ASSERT_TRUE(VerifyDatabase(*ledger, std::nullopt, report).ok());
  EXPECT_TRUE(report.ok()) << report.problems().front().where << ": "
                           << report.problems().front().what;
}

}  // namespace attest::ledger::test
