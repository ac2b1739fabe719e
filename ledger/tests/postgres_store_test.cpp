// The PostgreSQL LedgerStore on a private server (pg/testing): the
// conformance suite, and what only a server has: the lock timeout, a restart
// between calls, schema versions, read-only sessions.
#include <array>
#include <chrono>
#include <future>
#include <iostream>
#include <vector>

#include <gtest/gtest.h>

#include "attest/ed25519.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/postgres_ledger_store.h"
#include "attest/ledger/verify.h"
#include "attest/pg/pg.h"
#include "attest/pg/test_cluster.h"

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

TEST_F(PostgresStoreTest, TheClusterStartedAndSaysHowLong) {
  // Reported, not asserted: the figure for the notes (initdb + first start).
  RecordProperty("cluster_startup_ms",
                 static_cast<int>(database_.cluster().startup_time().count()));
  std::cout << "cluster startup: " << database_.cluster().startup_time().count() << " ms\n";
  EXPECT_GT(database_.cluster().startup_time().count(), 0);
}

TEST_F(PostgresStoreTest, CreateRefusesADatabaseThatHoldsALedgerAndOpenOneThatHoldsNone) {
  auto none = OpenPostgresLedgerStore(database_.url(), {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_NE(none.error().message.find("ledger init"), std::string::npos);
  ASSERT_TRUE(CreatePostgresLedgerStore(database_.url(), {}).ok());
  auto again = CreatePostgresLedgerStore(database_.url(), {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
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
    writers.push_back(std::async(std::launch::async,
                                 [writer, ledger = std::move(ledger).value()]() mutable -> Status {
                                   for (int n = 0; n < kPerWriter; ++n) {
                                     auto appended = ledger.Append(NewEntry{
                                         "config.changed", "writer" + std::to_string(writer),
                                         "{\"n\":" + std::to_string(n) + "}", {}});
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

// A server restart between calls: the next call fails cleanly as a lost
// connection (nothing half-written), and a new Open carries on.
TEST_F(PostgresStoreTest, AServerRestartIsAConnectionLostAndTheNextOpenWorks) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  ASSERT_TRUE(ledger->Append(NewEntry{"config.changed", "test", "{}", {}}).ok());
  ASSERT_TRUE(database_.cluster().Restart().ok());

  auto appended = ledger->Append(NewEntry{"config.changed", "test", "{\"lost\":true}", {}});
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().code, ErrorCode::kIo);
  EXPECT_TRUE(pg::IsConnectionLost(appended.error())) << appended.error().ToString();
  auto size = ledger->Size();
  ASSERT_FALSE(size.ok());
  EXPECT_TRUE(pg::IsConnectionLost(size.error())) << size.error().ToString();

  auto reopened = Ledger::FromStore(Open());
  ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
  EXPECT_EQ(reopened->Size().value(), 1u);
  ASSERT_TRUE(reopened->Append(NewEntry{"config.changed", "test", "{}", {}}).ok());
  VerifyReport report;
  ASSERT_TRUE(VerifyDatabase(*reopened, std::nullopt, report).ok());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.entries, 2u);
}

}  // namespace
}  // namespace attest::ledger::test
