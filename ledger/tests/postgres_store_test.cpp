// The PostgreSQL LedgerStore on a private server (pg/testing): the
// conformance suite, and what only a server has: the lock timeout, a restart
// between calls, schema versions, read-only sessions.
#include <array>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "attest/ed25519.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/postgres_ledger_store.h"
#include "attest/ledger/verify.h"
#include "attest/pg/pg.h"
#include "attest/pg/test_cluster.h"

#include "src/postgres_commit_outcome.h"
#include "store_conformance.h"

namespace attest::ledger::test {
namespace {

class PostgresBackend final : public StoreBackend {
 public:
  Result<std::unique_ptr<LedgerStore>> Create() override {
    if (!database_.ok()) return MakeError(ErrorCode::kIo, database_.error());
    return CreatePostgresLedgerStore(database_.url(), PostgresStoreOptions{});
  }
  Result<std::unique_ptr<LedgerStore>> Connect() override {
    return OpenPostgresLedgerStore(database_.url(), PostgresStoreOptions{});
  }

 private:
  pg::test::TestDatabase database_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, LedgerStoreConformance,
                         ::testing::Values(StoreBackendFactory{
                             "Postgres", [] { return std::make_unique<PostgresBackend>(); }}),
                         StoreBackendName);

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(database_.ok()) << database_.error(); }

  std::unique_ptr<LedgerStore> Open(const PostgresStoreOptions& options = {}) {
    auto store = OpenPostgresLedgerStore(database_.url(), options);
    EXPECT_TRUE(store.ok()) << store.error().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  Result<Ledger> CreateLedger() {
    ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<LedgerStore> store,
                            CreatePostgresLedgerStore(database_.url(), {}));
    return Ledger::Initialize(std::move(store), origin_, key_.public_key());
  }

  Status Sql(const std::string& script) {
    ATTEST_ASSIGN_OR_RETURN(pg::Connection connection, pg::Connection::Open(database_.url()));
    return connection.ExecuteScript("test", script);
  }

  pg::test::TestDatabase database_;
  Ed25519PrivateKey key_ = Ed25519PrivateKey::Generate().value();
  std::string origin_ = "postgres.example/ledger";
};

TEST_F(PostgresStoreTest, CreateRefusesADatabaseThatHoldsALedgerAndOpenOneThatHoldsNone) {
  auto none = OpenPostgresLedgerStore(database_.url(), {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_NE(none.error().message.find("ledger init"), std::string::npos);
  ASSERT_TRUE(CreateLedger().ok());
  auto again = CreatePostgresLedgerStore(database_.url(), {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
}

// Processes that create or open the ledger at the same moment: the schema
// lock makes one of them do the work and the others see it done.
TEST_F(PostgresStoreTest, ConcurrentCreatesMakeTheSchemaOnce) {
  constexpr int kCreators = 4;
  std::vector<std::future<Result<std::unique_ptr<LedgerStore>>>> creators;
  for (int i = 0; i < kCreators; ++i) {
    creators.push_back(std::async(
        std::launch::async, [this] { return CreatePostgresLedgerStore(database_.url(), {}); }));
  }
  int created = 0;
  for (auto& creator : creators) {
    auto store = creator.get();
    if (store.ok()) {
      ++created;
      continue;
    }
    EXPECT_EQ(store.error().code, ErrorCode::kAlreadyExists) << store.error().ToString();
    EXPECT_NE(store.error().message.find("already holds a ledger"), std::string::npos)
        << store.error().ToString();
  }
  EXPECT_EQ(created, 1);
}

TEST_F(PostgresStoreTest, ConcurrentOpensOfAnOldSchemaMigrateOnce) {
  // A database an older program left at schema version 0.
  ASSERT_TRUE(Sql("CREATE TABLE ledger_schema_migrations(version integer PRIMARY KEY, "
                  "applied_at timestamptz NOT NULL DEFAULT now())")
                  .ok());
  constexpr int kOpeners = 4;
  std::vector<std::future<Result<std::unique_ptr<LedgerStore>>>> openers;
  for (int i = 0; i < kOpeners; ++i) {
    openers.push_back(std::async(std::launch::async,
                                 [this] { return OpenPostgresLedgerStore(database_.url(), {}); }));
  }
  for (auto& opener : openers) {
    auto store = opener.get();
    EXPECT_TRUE(store.ok()) << store.error().ToString();
  }
  auto connection = pg::Connection::Open(database_.url());
  ASSERT_TRUE(connection.ok());
  auto versions = connection->Query(
      "versions", "SELECT version::int8 FROM ledger_schema_migrations ORDER BY version");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->rows(), 2);  // each migration once
  EXPECT_EQ(versions->Int64(0, 0).value(), 1);
  EXPECT_EQ(versions->Int64(1, 0).value(), 2);
  EXPECT_EQ(Open()->ReadTreeHead().value().size, 0u);
}

TEST_F(PostgresStoreTest, ASchemaFromANewerProgramIsRefused) {
  ASSERT_TRUE(CreatePostgresLedgerStore(database_.url(), {}).ok());
  ASSERT_TRUE(Sql("INSERT INTO ledger_schema_migrations(version) VALUES (99)").ok());
  auto store = OpenPostgresLedgerStore(database_.url(), {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(store.error().message.find("99"), std::string::npos);
}

TEST_F(PostgresStoreTest, APasswordInTheUrlIsRefused) {
  auto store = CreatePostgresLedgerStore("postgresql://attest:hunter2@localhost/ledger", {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.error().message.find("hunter2"), std::string::npos);
}

TEST_F(PostgresStoreTest, RowsAreAppendOnlyInTheDatabaseToo) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  ASSERT_TRUE(ledger->Append(NewEntry{"config.changed", "test", "{}", {}}).ok());
  for (const char* change : {"UPDATE ledger_entries SET actor = 'mallory'",
                             "DELETE FROM ledger_entries", "TRUNCATE ledger_entries"}) {
    Status refused = Sql(change);
    ASSERT_FALSE(refused.ok()) << change;
    EXPECT_NE(refused.error().message.find("append-only"), std::string::npos)
        << refused.error().ToString();
  }
  EXPECT_EQ(ledger->Size().value(), 1u);
}

TEST_F(PostgresStoreTest, AReadOnlyStoreReadsAndRefusesToWrite) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  ASSERT_TRUE(ledger->Append(NewEntry{"config.changed", "test", "{}", {}}).ok());
  auto reader = Ledger::FromStore(Open({.read_only = true}));
  ASSERT_TRUE(reader.ok()) << reader.error().ToString();
  EXPECT_EQ(reader->Size().value(), 1u);
  auto write = reader->Append(NewEntry{"config.changed", "test", "{}", {}});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, ErrorCode::kPermissionDenied) << write.error().ToString();
  EXPECT_EQ(ledger->Size().value(), 1u);
  // Outside a transaction too, though the session itself is not read-only
  // (a pooler would hand that setting to the next client).
  std::unique_ptr<LedgerStore> store = Open({.read_only = true});
  ASSERT_NE(store, nullptr);
  Status meta = store->WriteMeta("extra", "value");
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(store->ReadMeta("extra").error().code, ErrorCode::kNotFound);
}

// The tree-head row serializes appends: it cannot be removed, and without it
// an append is refused rather than run unserialized.
TEST_F(PostgresStoreTest, TheTreeHeadRowIsKeptAndAppendsRefuseToRunWithoutIt) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  ASSERT_TRUE(ledger->Append(NewEntry{"config.changed", "test", "{}", {}}).ok());
  for (const char* change : {"DELETE FROM ledger_tree_head", "TRUNCATE ledger_tree_head",
                             "UPDATE ledger_tree_head SET id = true"}) {
    Status refused = Sql(change);
    ASSERT_FALSE(refused.ok()) << change;
    EXPECT_NE(refused.error().message.find("tree-head row"), std::string::npos)
        << refused.error().ToString();
  }
  // A superuser can still remove it, with the triggers off.
  ASSERT_TRUE(Sql("SET session_replication_role = replica; DELETE FROM ledger_tree_head").ok());
  auto appended = ledger->Append(NewEntry{"config.changed", "test", "{}", {}});
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().code, ErrorCode::kCorrupt) << appended.error().ToString();
  EXPECT_NE(appended.error().message.find("ledger_tree_head"), std::string::npos);
  EXPECT_EQ(ledger->Size().value(), 1u);
}

// A database made by the first schema version gets the tree-head triggers
// and the size constraints when a writer opens it.
TEST_F(PostgresStoreTest, SchemaVersionOneIsMigrated) {
  ASSERT_TRUE(CreateLedger().ok());
  ASSERT_TRUE(Sql(R"sql(
DROP TRIGGER ledger_tree_head_kept ON ledger_tree_head;
DROP TRIGGER ledger_tree_head_no_truncate ON ledger_tree_head;
DROP FUNCTION ledger_keep_tree_head();
ALTER TABLE ledger_checkpoints DROP CONSTRAINT ledger_checkpoints_tree_size_check;
ALTER TABLE ledger_merkle_nodes DROP CONSTRAINT ledger_merkle_nodes_last_leaf_check;
DELETE FROM ledger_schema_migrations WHERE version = 2;
)sql")
                  .ok());
  auto reader = OpenPostgresLedgerStore(database_.url(), {.read_only = true});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, ErrorCode::kUnsupported);
  {
    // A reader in the middle of a transaction holds the table the migration
    // alters: the migration waits up to the lock timeout, not forever.
    auto reader_connection = pg::Connection::Open(database_.url());
    ASSERT_TRUE(reader_connection.ok());
    auto reading = pg::Transaction::Begin(*reader_connection);
    ASSERT_TRUE(reading.ok());
    ASSERT_TRUE(reader_connection->Execute("read", "SELECT count(*) FROM ledger_checkpoints").ok());
    auto blocked = OpenPostgresLedgerStore(database_.url(), {.lock_timeout_ms = 150});
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.error().code, ErrorCode::kBusy) << blocked.error().ToString();
  }
  ASSERT_NE(Open(), nullptr);
  Status removed = Sql("DELETE FROM ledger_tree_head");
  ASSERT_FALSE(removed.ok());
  EXPECT_NE(removed.error().message.find("tree-head row"), std::string::npos);
  for (const char* negative : {"INSERT INTO ledger_checkpoints VALUES (-1, '\\x00', 'n', 't')",
                               "INSERT INTO ledger_merkle_nodes VALUES (-2, 1, '\\x00')"}) {
    Status refused = Sql(negative);
    ASSERT_FALSE(refused.ok()) << negative;
    EXPECT_EQ(refused.error().sqlstate, "23514") << refused.error().ToString();
  }
}

// The server dies while it runs an append's COMMIT (a deferred trigger ends
// the session at commit time, before the commit is written). The store
// finds out on a new connection that the entry is not there: an ordinary
// lost connection, safe to retry, and the store goes on.
TEST_F(PostgresStoreTest, AnAppendWhoseCommitWasLostIsResolvedAsNotCommitted) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  ASSERT_TRUE(Sql(pg::test::DieAtCommitTriggerSql("ledger_entries")).ok());
  auto lost = ledger->Append(NewEntry{"config.changed", "test", "{}", {}});
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kIo);
  EXPECT_TRUE(pg::IsConnectionLost(lost.error())) << lost.error().ToString();
  EXPECT_FALSE(pg::IsCommitOutcomeUnknown(lost.error())) << lost.error().ToString();
  EXPECT_NE(lost.error().message.find("did not commit"), std::string::npos);

  ASSERT_TRUE(Sql("DROP TRIGGER die_at_commit ON ledger_entries").ok());
  auto retried = ledger->Append(NewEntry{"config.changed", "test", "{}", {}});
  ASSERT_TRUE(retried.ok()) << retried.error().ToString();
  EXPECT_EQ(retried->seq, 1u);
  EXPECT_EQ(ledger->Size().value(), 1u);
}

// A commit that did land but whose answer was lost cannot be caused on
// purpose (the server answers as soon as the commit is written), so the
// resolution is tested directly: with the rows a committed transaction left,
// and without them.
TEST_F(PostgresStoreTest, TheCommitResolutionFindsWhatWasCommittedAndOnlyThat) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  auto appended = ledger->Append(NewEntry{"config.changed", "test", "{}", {}});
  ASSERT_TRUE(appended.ok());
  // The key signs nothing else in this test.
  NoteSigner signer{origin_, NoteKeyId(origin_, key_.public_key()), std::move(key_)};
  auto checkpoint = ledger->SignCheckpoint(signer);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().ToString();
  auto connection = pg::Connection::Open(database_.url());
  ASSERT_TRUE(connection.ok());
  Error unknown = MakeError(ErrorCode::kIo, "commit: lost");
  unknown.sqlstate = "08007";

  Hash other = appended->entry_hash;
  other[0] ^= 1;
  EXPECT_TRUE(
      ResolveCommitOutcome(*connection, EntryWitness(1, appended->entry_hash), unknown).ok());
  EXPECT_TRUE(
      ResolveCommitOutcome(*connection, CheckpointWitness(1, checkpoint->note), unknown).ok());
  auto format = connection->Query("format", "SELECT value FROM ledger_meta WHERE key = 'format'");
  ASSERT_TRUE(format.ok());
  const std::string stored_format(format->Text(0, 0).value());
  EXPECT_TRUE(
      ResolveCommitOutcome(*connection, MetaWitness("format", stored_format), unknown).ok());
  for (const CommitWitness& absent : std::vector<CommitWitness>{
           EntryWitness(1, other), EntryWitness(2, appended->entry_hash),
           CheckpointWitness(1, checkpoint->note + "x"), CheckpointWitness(2, checkpoint->note),
           MetaWitness("format", stored_format + "x"), MetaWitness("origin", stored_format)}) {
    Status resolved = ResolveCommitOutcome(*connection, absent, unknown);
    ASSERT_FALSE(resolved.ok());
    EXPECT_TRUE(pg::IsConnectionLost(resolved.error()));
    EXPECT_FALSE(pg::IsCommitOutcomeUnknown(resolved.error()));
  }
  // When the database cannot be asked, the outcome stays unknown.
  ASSERT_TRUE(connection->Execute("drop", "DROP TABLE ledger_checkpoints").ok());
  Status unanswered =
      ResolveCommitOutcome(*connection, CheckpointWitness(1, checkpoint->note), unknown);
  ASSERT_FALSE(unanswered.ok());
  EXPECT_TRUE(pg::IsCommitOutcomeUnknown(unanswered.error()));
}

// A writer that cannot have the tree head within its lock timeout gives up
// with kBusy and writes nothing; once the lock is free it goes on.
TEST_F(PostgresStoreTest, AWriterThatWaitsPastTheLockTimeoutIsBusy) {
  auto created = CreatePostgresLedgerStore(database_.url(), {});
  ASSERT_TRUE(created.ok());
  std::unique_ptr<LedgerStore> holder = std::move(created).value();
  std::unique_ptr<LedgerStore> waiter = Open({.lock_timeout_ms = 150});
  ASSERT_NE(waiter, nullptr);
  Entry first;
  first.seq = 1;
  first.content = {"2026-01-01T00:00:00Z", "config.changed", "test", "{}", std::nullopt};
  first.entry_hash = ComputeEntryHash(1, first.content);
  Sha256 hasher;
  first.chain_hash = ComputeChainHash(kGenesisChainHash, first.entry_hash, hasher);

  std::chrono::steady_clock::duration waited{};
  Status waiter_status;
  Status held = holder->WithWriteTransaction([&](const TreeHead&) -> Status {
    const auto began = std::chrono::steady_clock::now();
    waiter_status = std::async(std::launch::async, [&] {
                      return waiter->WithWriteTransaction([&](const TreeHead&) -> Status {
                        ADD_FAILURE() << "the waiter got the lock the holder holds";
                        return waiter->InsertEntry(first);
                      });
                    }).get();
    waited = std::chrono::steady_clock::now() - began;
    return holder->InsertEntry(first);
  });
  ASSERT_TRUE(held.ok()) << held.error().ToString();
  ASSERT_FALSE(waiter_status.ok());
  EXPECT_EQ(waiter_status.error().code, ErrorCode::kBusy) << waiter_status.error().ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(140));
  EXPECT_EQ(waiter->ReadTreeHead().value().size, 1u);
  Status after = waiter->WithWriteTransaction([&](const TreeHead& head) -> Status {
    EXPECT_EQ(head.size, 1u);
    return OkStatus();
  });
  EXPECT_TRUE(after.ok()) << after.error().ToString();
}

// Two ledgers on their own connections append at once: one chain, every
// entry once, and the whole ledger verifies.
TEST_F(PostgresStoreTest, TwoConnectionsAppendingAtOnceMakeOneChain) {
  ASSERT_TRUE(CreateLedger().ok());
  constexpr int kPerWriter = 60;
  std::vector<std::future<Status>> writers;
  for (int writer = 0; writer < 2; ++writer) {
    auto ledger = Ledger::FromStore(Open());
    ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
    writers.push_back(std::async(
        std::launch::async, [writer, ledger = std::move(ledger).value()]() mutable -> Status {
          for (int n = 0; n < kPerWriter; ++n) {
            auto appended = ledger.Append(NewEntry{"config.changed",
                                                   "writer" + std::to_string(writer),
                                                   "{\"n\":" + std::to_string(n) + "}",
                                                   {}});
            if (!appended.ok()) return appended.error();
          }
          return OkStatus();
        }));
  }
  for (auto& writer : writers) {
    Status status = writer.get();
    EXPECT_TRUE(status.ok()) << status.error().ToString();
  }
  auto ledger = Ledger::FromStore(Open());
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->Size().value(), 2u * kPerWriter);
  // Each writer's entries, in its own order, all there once.
  std::array<int, 2> next = {0, 0};
  for (std::uint64_t seq = 1; seq <= 2u * kPerWriter; ++seq) {
    Entry entry = ledger->Get(seq).value();
    int writer = entry.content.actor == "writer0" ? 0 : 1;
    EXPECT_EQ(entry.content.payload, "{\"n\":" + std::to_string(next[writer]++) + "}");
  }
  VerifyReport report;
  ASSERT_TRUE(VerifyDatabase(*ledger, std::nullopt, report).ok());
  EXPECT_TRUE(report.ok()) << report.problems().front().what;
  EXPECT_EQ(report.entries, 2u * kPerWriter);
}

// A server restart between calls: the store's connection died while idle,
// so the next write's BEGIN finds it closed and the store runs it on a new
// connection: the caller sees nothing, and the chain stays one.
TEST_F(PostgresStoreTest, AServerRestartBetweenCallsIsReconnectedUnseen) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  ASSERT_TRUE(ledger->Append(NewEntry{"config.changed", "test", "{}", {}}).ok());
  ASSERT_TRUE(database_.cluster().Restart().ok());

  auto appended = ledger->Append(NewEntry{"config.changed", "test", "{\"after\":1}", {}});
  ASSERT_TRUE(appended.ok()) << appended.error().ToString();
  EXPECT_EQ(appended->seq, 2u);
  EXPECT_EQ(ledger->Size().value(), 2u);
  VerifyReport report;
  ASSERT_TRUE(VerifyDatabase(*ledger, std::nullopt, report).ok());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.entries, 2u);
}

// While the server is down, calls fail at once as a lost connection
// (nothing half-written); once it is back, the same store carries on
// within its reconnect backoff (at most 5 s), without a new Open.
TEST_F(PostgresStoreTest, WhileTheServerIsDownCallsFailCleanlyThenTheStoreRecovers) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  ASSERT_TRUE(ledger->Append(NewEntry{"config.changed", "test", "{}", {}}).ok());
  ASSERT_TRUE(database_.cluster().Stop().ok());

  for (int attempt = 0; attempt < 3; ++attempt) {
    auto appended = ledger->Append(NewEntry{"config.changed", "test", "{\"lost\":true}", {}});
    ASSERT_FALSE(appended.ok());
    EXPECT_EQ(appended.error().code, ErrorCode::kIo);
    EXPECT_TRUE(pg::IsConnectionLost(appended.error())) << appended.error().ToString();
  }
  auto size = ledger->Size();
  ASSERT_FALSE(size.ok());
  EXPECT_TRUE(pg::IsConnectionLost(size.error())) << size.error().ToString();

  ASSERT_TRUE(database_.cluster().Start().ok());
  Result<AppendedEntry> appended = MakeError(ErrorCode::kIo, "not tried");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < give_up) {
    appended = ledger->Append(NewEntry{"config.changed", "test", "{\"after\":1}", {}});
    if (appended.ok()) break;
    EXPECT_TRUE(pg::IsConnectionLost(appended.error())) << appended.error().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(appended.ok()) << appended.error().ToString();
  EXPECT_EQ(appended->seq, 2u);  // none of the failed appends left a row
  VerifyReport report;
  ASSERT_TRUE(VerifyDatabase(*ledger, std::nullopt, report).ok());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.entries, 2u);
}

}  // namespace
}  // namespace attest::ledger::test
