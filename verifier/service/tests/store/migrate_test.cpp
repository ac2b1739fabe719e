// `verifier migrate` as a library call (migrate.h): a SQLite deployment made
// by InitStateDirectory and populated through the SQLite store is copied into
// a fresh database of the binary's private PostgreSQL cluster (pg/testing),
// and read back through the PostgreSQL store and ledger. Then what it must
// refuse, and failures before, during and after the service rows' commit:
// the target is left without any of the verifier's tables.
#include "attest/service/migrate.h"

#include <set>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>

#include "attest/file.h"
#include "attest/ledger/kinds.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/postgres_ledger_store.h"
#include "attest/ledger/verify.h"
#include "attest/pg/pg.h"
#include "attest/pg/test_cluster.h"
#include "attest/service/config.h"
#include "attest/service/ledger_writer.h"
#include "attest/service/operations.h"
#include "attest/service/postgres_store.h"
#include "attest/service/sqlite_store.h"
#include "attest/testing/test_support.h"

#include "src/store/postgres_internal.h"
#include "tests/store/migrate_test_state.h"
#include "tests/store/store_records.h"

namespace attest::service::test {
namespace {

namespace kinds = ledger::kinds;
using ::attest::test::RunCommand;
using ::attest::test::TempDir;

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok()) << database_.error();
    InitOptions options;
    options.state_dir = layout_.dir;
    options.ledger_origin = "migrate.example/verifier";
    auto token = InitStateDirectory(options, clock_);
    ASSERT_TRUE(token.ok()) << token.error().ToString();
  }

  Result<MigrationSummary> Migrate() { return MigrateSqliteToPostgres({layout_.dir, ""}, url()); }
  std::string ServiceDb() const { return layout_.dir + "/service.db"; }
  std::string LedgerDb() const { return layout_.dir + "/ledger.db"; }
  const std::string& url() const { return database_.url(); }

  // The tables of the target's public schema.
  std::set<std::string> Tables() {
    std::set<std::string> names;
    auto connection = pg::Connection::Open(url());
    EXPECT_TRUE(connection.ok());
    if (!connection.ok()) return names;
    auto rows = connection->Query(
        "list", "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'");
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    for (int row = 0; rows.ok() && row < rows->rows(); ++row) {
      names.emplace(rows->Text(row, 0).value());
    }
    return names;
  }

  Status Sql(const std::string& script) {
    ATTEST_ASSIGN_OR_RETURN(pg::Connection connection, pg::Connection::Open(url()));
    return connection.ExecuteScript("test", script);
  }

  void Sqlite(const std::string& db, const std::string& sql) {
    auto result = RunCommand({"sqlite3", db, sql});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  pg::test::TestDatabase database_;
  TempDir dir_;
  StateLayout layout_{dir_.File("state")};
  SystemClock clock_;
};

TEST_F(MigrateTest, EveryRecordReadsBackTheSameAndTheLedgerVerifiesWithTheSameRoot) {
  PopulatedState source;
  ASSERT_NO_FATAL_FAILURE(source = PopulateDeployment(layout_));
  auto summary = Migrate();
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();

  const std::vector<std::pair<std::string, std::uint64_t>> rows = {
      {"nodes", 4},    {"enrollments", 2},   {"certificates", 3}, {"tokens", 3},
      {"policies", 2}, {"ledger_outbox", 2}, {"ledger_drain", 1}, {"crl_number", 1}};
  EXPECT_EQ(summary->service_rows, rows);
  EXPECT_EQ(summary->ledger.entries, source.ledger_size);
  EXPECT_EQ(summary->ledger.checkpoints, 2u);
  EXPECT_EQ(summary->ledger_root, source.ledger_root);

  // Exactly the two schemas: what migrate looks for and would drop.
  std::set<std::string> schema_tables;
  for (const std::string& table : internal::PostgresServiceTables()) schema_tables.insert(table);
  for (const std::string& table : ledger::PostgresLedgerTables()) schema_tables.insert(table);
  EXPECT_EQ(Tables(), schema_tables);

  auto store = OpenPostgresServiceStore(url(), false);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  ExpectSameState(ReadState(**store, source), source);
  // The policy history, not only the current one.
  auto connection = pg::Connection::Open(url());
  ASSERT_TRUE(connection.ok());
  auto serials = connection->Query("read", "SELECT serial FROM policies ORDER BY serial");
  ASSERT_TRUE(serials.ok());
  ASSERT_EQ(serials->rows(), 2);
  EXPECT_EQ(serials->Int64(0, 0).value(), 1);
  EXPECT_EQ(serials->Int64(1, 0).value(), 2);

  // The CRL number and the outbox ids go on from SQLite's.
  EXPECT_EQ((*store)->NextCrlNumber().value(), source.last_crl_number + 1);
  ASSERT_TRUE((*store)->Commit({.events = {MakeEvent(kinds::kNodeApproved, 9)}}).ok());
  auto pending = (*store)->PendingLedgerEvents(100);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ(pending->back().outbox_id, source.pending.back().outbox_id + 1);
  // Answered challenges are not copied.
  EXPECT_EQ((*store)
                ->RedeemChallenge(NodeId(2), ChallengeNonce(1),
                                  std::chrono::system_clock::now() + std::chrono::minutes(5))
                .value(),
            ChallengeRedemption::kValid);

  // The ledger: verified against ledger.pub, the same entries and root; the
  // drain intent SQLite left is finished on PostgreSQL, each event once.
  auto ledger = ledger::Ledger::Open(url());
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  ledger::VerifyReport report;
  ASSERT_TRUE(ledger::VerifyDatabase(*ledger, source.ledger_key, report).ok());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.entries, source.ledger_size);
  EXPECT_EQ(report.checkpoints_verified, 2u);
  EXPECT_EQ(report.root, source.ledger_root);
  auto drained = DrainLedgerOutbox(**store, *ledger);
  ASSERT_TRUE(drained.ok()) << drained.error().ToString();
  EXPECT_EQ(*drained, 3u);
  EXPECT_TRUE((*store)->PendingLedgerEvents(100).value().empty());
  EXPECT_FALSE((*store)->GetLedgerDrainIntent().value().has_value());
  ledger::VerifyReport after;
  ASSERT_TRUE(ledger::VerifyDatabase(*ledger, source.ledger_key, after).ok());
  EXPECT_TRUE(after.ok());
  EXPECT_EQ(after.entries, source.ledger_size + 3);
  // The SQLite files are left as they were.
  auto sqlite = OpenSqliteServiceStore(ServiceDb(), false);
  ASSERT_TRUE(sqlite.ok());
  EXPECT_EQ((*sqlite)->PendingLedgerEvents(100).value().size(), 2u);
}

TEST_F(MigrateTest, OutboxIdsGoOnAfterTheLastOneSqliteHandedOutEvenWhenItsOutboxIsEmpty) {
  {
    auto store = OpenSqliteServiceStore(ServiceDb(), false);
    ASSERT_TRUE(store.ok());
    auto ledger = ledger::Ledger::Open(LedgerDb());
    ASSERT_TRUE(ledger.ok());
    for (int n = 1; n <= 3; ++n) {
      ASSERT_TRUE((*store)->Commit({.events = {MakeEvent(kinds::kNodeApproved, n)}}).ok());
    }
    ASSERT_TRUE(DrainLedgerOutbox(**store, *ledger).ok());
    ASSERT_TRUE((*store)->PendingLedgerEvents(10).value().empty());
  }
  auto summary = Migrate();
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  auto store = OpenPostgresServiceStore(url(), false);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Commit({.events = {MakeEvent(kinds::kNodeApproved, 4)}}).ok());
  // init's token.created was 1, the three above 2..4.
  EXPECT_EQ((*store)->PendingLedgerEvents(10).value().at(0).outbox_id, 5);
}

TEST_F(MigrateTest, ATargetWithAServiceSchemaIsRefusedAndKeptAsItWas) {
  {
    auto existing = OpenPostgresServiceStore(url(), true);
    ASSERT_TRUE(existing.ok());
    ASSERT_TRUE((*existing)->Commit({.token = MakeTokenRecord(42)}).ok());
  }
  const std::set<std::string> before = Tables();
  auto summary = Migrate();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(summary.error().message.find("service_schema_migrations, nodes"), std::string::npos)
      << summary.error().message;
  EXPECT_EQ(Tables(), before);
  auto store = OpenPostgresServiceStore(url(), false);
  ASSERT_TRUE(store.ok());
  auto tokens = (*store)->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(tokens->front().token_id, MakeTokenRecord(42).token_id);
}

TEST_F(MigrateTest, ATargetWithALedgerIsRefusedBeforeAnyServiceTableIsMade) {
  ASSERT_TRUE(Sql("CREATE TABLE ledger_entries(seq bigint)").ok());
  auto summary = Migrate();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(summary.error().message.find("ledger_entries"), std::string::npos);
  EXPECT_EQ(Tables(), std::set<std::string>{"ledger_entries"});
}

TEST_F(MigrateTest, AVerifierHoldingTheStateIsRefusedAndNothingIsWritten) {
  {
    // A running verifier keeps service.db open.
    auto open = OpenSqliteServiceStore(ServiceDb(), false);
    ASSERT_TRUE(open.ok());
    auto summary = Migrate();
    ASSERT_FALSE(summary.ok());
    EXPECT_EQ(summary.error().code, ErrorCode::kBusy);
    EXPECT_NE(summary.error().message.find("stop every verifier"), std::string::npos)
        << summary.error().message;
  }
  {
    // A drain under way holds the drain lock (an flock on its own open
    // file, which conflicts with ours even in one process).
    int fd =
        ::open((layout_.dir + "/ledger-drain.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    FileDescriptor held(fd);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    auto summary = Migrate();
    ASSERT_FALSE(summary.ok());
    EXPECT_EQ(summary.error().code, ErrorCode::kBusy);
    EXPECT_NE(summary.error().message.find("stop every verifier"), std::string::npos)
        << summary.error().message;
  }
  EXPECT_TRUE(Tables().empty());
}

TEST_F(MigrateTest, ACorruptSourceRowMidCopyLeavesTheTargetWithoutATable) {
  ASSERT_NO_FATAL_FAILURE(PopulateDeployment(layout_));
  // Tokens come after nodes, enrollments and certificates.
  Sqlite(ServiceDb(), "UPDATE tokens SET role = 'root' WHERE label = 'token 2'");
  auto summary = Migrate();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(summary.error().message.find("tokens"), std::string::npos) << summary.error().message;
  EXPECT_TRUE(Tables().empty());
}

TEST_F(MigrateTest, AFailureAfterTheServiceRowsCommittedDropsThemAgain) {
  ASSERT_NO_FATAL_FAILURE(PopulateDeployment(layout_));
  // The ledger's schema cannot be made: the service rows are in by then.
  ASSERT_TRUE(Sql(R"sql(
CREATE FUNCTION refuse_ledger() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()
             WHERE object_identity = 'public.ledger_entries') THEN
    RAISE EXCEPTION 'planted failure';
  END IF;
END $$;
CREATE EVENT TRIGGER refuse_ledger ON ddl_command_end EXECUTE FUNCTION refuse_ledger();
)sql")
                  .ok());
  auto summary = Migrate();
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().message.find("planted failure"), std::string::npos)
      << summary.error().message;
  EXPECT_NE(summary.error().message.find("dropped again"), std::string::npos)
      << summary.error().message;
  EXPECT_TRUE(Tables().empty());
}

TEST_F(MigrateTest, WhatWasThereBeforeIsNeverDroppedWithWhatThisRunMade) {
  // A function of the name the ledger's schema uses stops its creation;
  // the service rows are dropped again, the function stays.
  ASSERT_TRUE(Sql("CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql "
                  "AS $$ BEGIN RETURN NULL; END $$")
                  .ok());
  auto summary = Migrate();
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().message.find("dropped again"), std::string::npos)
      << summary.error().message;
  EXPECT_TRUE(Tables().empty());
  auto connection = pg::Connection::Open(url());
  ASSERT_TRUE(connection.ok());
  auto kept =
      connection->Query("look", "SELECT to_regprocedure('ledger_refuse_change()') IS NOT NULL");
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->Bool(0, 0).value());
}

TEST_F(MigrateTest, ASourceLedgerThatDoesNotVerifyIsRefusedBeforeAnythingIsWritten) {
  ASSERT_NO_FATAL_FAILURE(PopulateDeployment(layout_));
  Sqlite(LedgerDb(),
         "DROP TRIGGER entries_no_update; UPDATE entries SET actor = 'x' WHERE seq = 2;");
  auto summary = Migrate();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::kVerificationFailed);
  EXPECT_NE(summary.error().message.find("seq 2"), std::string::npos) << summary.error().message;
  EXPECT_TRUE(Tables().empty());
}

TEST_F(MigrateTest, ADeploymentOnPostgresqlAlreadyIsNoSource) {
  auto summary = MigrateSqliteToPostgres({layout_.dir, url()}, url());
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Tables().empty());
}

TEST_F(MigrateTest, OnlyAPostgresqlUrlIsATarget) {
  auto summary = MigrateSqliteToPostgres({layout_.dir, ""}, dir_.File("other.db"));
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace attest::service::test
