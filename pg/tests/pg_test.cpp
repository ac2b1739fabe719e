// The libpq layer against a real server: parameters and results round-trip,
// accessors refuse what a column does not hold, transactions leave nothing
// unless committed, and server errors map onto stable codes.
#include "attest/pg/pg.h"

#include <array>
#include <chrono>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include "attest/pg/test_cluster.h"

namespace attest::pg {
namespace {

class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok()) << database_.error();
    connection_ = Open();
    ASSERT_TRUE(connection_.has_value());
  }

  std::optional<Connection> Open(const std::string& suffix = "") {
    auto connection = Connection::Open(database_.url() + suffix);
    EXPECT_TRUE(connection.ok()) << connection.error().ToString();
    if (!connection.ok()) return std::nullopt;
    return std::move(connection).value();
  }

  Status Run(const std::string& sql) { return connection_->Execute("test", sql); }

  test::TestDatabase database_;
  std::optional<Connection> connection_;
};

TEST(PgConnectTest, AUrlWithAPasswordIsRefusedBeforeConnecting) {
  for (const std::string url :
       {"postgresql://user:secret@localhost/db", "postgresql:///db?host=/tmp&password=secret"}) {
    auto connection = Connection::Open(url);
    ASSERT_FALSE(connection.ok()) << url;
    EXPECT_EQ(connection.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(connection.error().message.find("PGPASSFILE"), std::string::npos);
    EXPECT_EQ(connection.error().message.find("secret"), std::string::npos);
  }
}

TEST(PgConnectTest, OnlyPostgresqlUrlsAreAccepted) {
  for (const std::string url :
       {"/var/lib/attest/ledger.db", "host=/tmp dbname=x", "mysql://x/y", "postgresql://[broken"}) {
    auto connection = Connection::Open(url);
    ASSERT_FALSE(connection.ok()) << url;
    EXPECT_EQ(connection.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST(PgConnectTest, NoServerIsAConnectionFailureToRetry) {
  auto connection = Connection::Open("postgresql:///x?host=/nonexistent-attest-dir&user=attest");
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.error().code, ErrorCode::kIo);
  EXPECT_TRUE(IsConnectionLost(connection.error())) << connection.error().ToString();
  EXPECT_NE(connection.error().message.find("connect to PostgreSQL"), std::string::npos);
}

TEST_F(PgTest, ParametersAndResultsRoundTrip) {
  const std::array<std::uint8_t, 5> bytes = {0x00, 0xff, 0x00, 0x27, 0x5c};
  auto result = connection_->Query(
      "round trip",
      "SELECT $1::text, $2::bytea, $3::int8, $4::int8, $5::text IS NULL, $6::bytea, "
      "$7::int4, $8::text",
      {Param::Text("héllo 'quoted' \\ text"), Param::Bytes(bytes),
       Param::Int64(std::numeric_limits<std::int64_t>::min()), Param::Int64(-2), Param::Null(),
       Param::Bytes({}), Param::Int64(-7), Param::Text("")});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  ASSERT_EQ(result->rows(), 1);
  ASSERT_EQ(result->columns(), 8);
  EXPECT_EQ(result->Text(0, 0).value(), "héllo 'quoted' \\ text");
  ByteView read = result->Bytes(0, 1).value();
  EXPECT_EQ(std::vector<std::uint8_t>(read.begin(), read.end()),
            std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  EXPECT_EQ(result->Int64(0, 2).value(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(result->Int64(0, 3).value(), -2);
  EXPECT_TRUE(result->Bool(0, 4).value());
  EXPECT_TRUE(result->Bytes(0, 5).value().empty());
  EXPECT_EQ(result->Int64(0, 6).value(), -7);  // int4, sign-extended
  EXPECT_EQ(result->Text(0, 7).value(), "");
}

TEST_F(PgTest, AccessorsCheckBoundsTypesAndNull) {
  auto result = connection_->Query("accessors", "SELECT 1::int8 AS n, NULL::bytea AS b");
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->Int64(1, 0).error().code, ErrorCode::kInternal);
  EXPECT_EQ(result->Int64(0, 2).error().code, ErrorCode::kInternal);
  EXPECT_EQ(result->Int64(-1, 0).error().code, ErrorCode::kInternal);
  auto wrong_type = result->Bytes(0, 0);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(wrong_type.error().message.find("\"n\""), std::string::npos);
  EXPECT_EQ(result->Text(0, 0).error().code, ErrorCode::kCorrupt);
  EXPECT_TRUE(result->IsNull(0, 1).value());
  EXPECT_EQ(result->Bytes(0, 1).error().code, ErrorCode::kCorrupt);  // NULL
}

// A prepared statement is made once and reused with new values; its types
// come from the first call (int8 compared with an int4 column works), and a
// failed prepare leaves nothing cached.
TEST_F(PgTest, APreparedStatementIsReusedWithNewValues) {
  ASSERT_TRUE(Run("CREATE TABLE t(level int4, hash bytea, note text)").ok());
  const std::string insert = "INSERT INTO t(level, hash, note) VALUES ($1, $2, $3)";
  const std::string select = "SELECT hash, note FROM t WHERE level = $1";
  for (std::int64_t level = 1; level <= 3; ++level) {
    const std::array<std::uint8_t, 2> hash = {static_cast<std::uint8_t>(level), 0};
    auto inserted = connection_->QueryPrepared(
        "insert", insert,
        {Param::Int64(level), Param::Bytes(hash), Param::Text("n" + std::to_string(level))});
    ASSERT_TRUE(inserted.ok()) << inserted.error().ToString();
    EXPECT_EQ(inserted->affected_rows(), 1u);
  }
  auto prepared = connection_->Query("count", "SELECT count(*)::int8 FROM pg_prepared_statements");
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->Int64(0, 0).value(), 1);
  auto row = connection_->QueryPrepared("select", select, {Param::Int64(2)});
  ASSERT_TRUE(row.ok()) << row.error().ToString();
  ASSERT_EQ(row->rows(), 1);
  EXPECT_EQ(row->Text(0, 1).value(), "n2");
  EXPECT_EQ(row->Bytes(0, 0).value()[0], 2);

  auto broken = connection_->QueryPrepared("broken", "SELECT nope FROM t", {});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().sqlstate, "42703");
  auto again = connection_->QueryPrepared("broken", "SELECT nope FROM t", {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().sqlstate, "42703");  // prepared anew, not a stale name
}

TEST_F(PgTest, ATextParameterWithANulIsRefused) {
  auto result = connection_->Query("nul", "SELECT $1::text", {Param::Text(std::string("a\0b", 3))});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(PgTest, ServerErrorsMapByState) {
  ASSERT_TRUE(Run("CREATE TABLE t(k int8 PRIMARY KEY)").ok());
  ASSERT_TRUE(connection_->Execute("insert", "INSERT INTO t VALUES ($1)", {Param::Int64(1)}).ok());
  Status duplicate =
      connection_->Execute("insert row one", "INSERT INTO t VALUES ($1)", {Param::Int64(1)});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(duplicate.error().sqlstate, "23505");
  EXPECT_EQ(duplicate.error().message.rfind("insert row one: duplicate key", 0), 0u)
      << duplicate.error().message;
  EXPECT_FALSE(IsConnectionLost(duplicate.error()));

  Status syntax = Run("SELEKT 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().code, ErrorCode::kDatabase);
  EXPECT_EQ(syntax.error().sqlstate, "42601");

  ASSERT_TRUE(Run("SET statement_timeout = '50ms'").ok());
  Status slow = Run("SELECT pg_sleep(5)");
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, ErrorCode::kBusy);
  EXPECT_EQ(slow.error().sqlstate, "57014");
  EXPECT_TRUE(connection_->IsAlive());
}

TEST_F(PgTest, ALockNotHadInTimeIsBusy) {
  ASSERT_TRUE(
      connection_
          ->ExecuteScript("schema",
                          "CREATE TABLE head(id int PRIMARY KEY); INSERT INTO head VALUES (1)")
          .ok());
  std::optional<Connection> other = Open();
  ASSERT_TRUE(other.has_value());
  auto holder = Transaction::Begin(*connection_);
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(Run("SELECT id FROM head FOR UPDATE").ok());
  auto waiter = Transaction::Begin(*other);
  ASSERT_TRUE(waiter.ok());
  ASSERT_TRUE(other->Execute("lock timeout", "SET LOCAL lock_timeout = '100ms'").ok());
  const auto began = std::chrono::steady_clock::now();
  Status locked = other->Execute("lock the head", "SELECT id FROM head FOR UPDATE");
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().code, ErrorCode::kBusy);
  EXPECT_EQ(locked.error().sqlstate, "55P03");
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(90));
  // The waiter's transaction is aborted: committing it is an error, not a
  // silent success.
  Status commit = waiter->Commit();
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.error().code, ErrorCode::kDatabase);
  EXPECT_FALSE(IsCommitOutcomeUnknown(commit.error()));
  EXPECT_TRUE(other->Execute("after the rollback", "SELECT 1").ok());
  EXPECT_TRUE(holder->Commit().ok());
}

TEST_F(PgTest, ATransactionLeavesNothingUnlessCommitted) {
  ASSERT_TRUE(Run("CREATE TABLE t(k int8)").ok());
  {
    auto transaction = Transaction::Begin(*connection_);
    ASSERT_TRUE(transaction.ok());
    ASSERT_TRUE(Run("INSERT INTO t VALUES (1)").ok());
  }  // destroyed uncommitted
  {
    auto transaction = Transaction::Begin(*connection_);
    ASSERT_TRUE(transaction.ok());
    ASSERT_TRUE(Run("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(transaction->Commit().ok());
    EXPECT_EQ(transaction->Commit().error().code, ErrorCode::kInternal);  // already over
  }
  {
    auto transaction = Transaction::Begin(*connection_);
    ASSERT_TRUE(transaction.ok());
    ASSERT_TRUE(Run("INSERT INTO t VALUES (3)").ok());
    ASSERT_TRUE(transaction->Rollback().ok());
  }
  auto rows = connection_->Query("count", "SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows(), 1);
  EXPECT_EQ(rows->Int64(0, 0).value(), 2);
}

TEST_F(PgTest, AReadOnlyTransactionRefusesWrites) {
  ASSERT_TRUE(Run("CREATE TABLE t(k int8)").ok());
  auto transaction = Transaction::Begin(
      *connection_, TransactionOptions{.isolation = Isolation::kRepeatableRead, .read_only = true});
  ASSERT_TRUE(transaction.ok());
  Status write = Run("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(write.error().sqlstate, "25006");
}

TEST_F(PgTest, ARoleWithoutPrivilegeIsPermissionDenied) {
  ASSERT_TRUE(Run("CREATE TABLE secret(k int8)").ok());
  ASSERT_TRUE(
      connection_->ExecuteScript("role", "DROP ROLE IF EXISTS reader; CREATE ROLE reader LOGIN")
          .ok());
  std::string url = database_.url();
  url.replace(url.find("user=attest"), std::string("user=attest").size(), "user=reader");
  auto reader = Connection::Open(url);
  ASSERT_TRUE(reader.ok()) << reader.error().ToString();
  Status read = reader->Execute("read secret", "SELECT k FROM secret");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(read.error().sqlstate, "42501");
}

TEST_F(PgTest, TheUrlsOwnSettingsWin) {
  std::optional<Connection> named = Open("&application_name=from-url");
  ASSERT_TRUE(named.has_value());
  auto name = named->Query("name", "SELECT current_setting('application_name')");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->Text(0, 0).value(), "from-url");
  auto fallback = connection_->Query("name", "SELECT current_setting('application_name')");
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->Text(0, 0).value(), "attest");
}

TEST_F(PgTest, Uint64RefusesANegativeCount) {
  auto result = connection_->Query("counts", "SELECT 5::int8, (-1)::int8, 7::int4");
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->Uint64(0, 0).value(), 5u);
  auto negative = result->Uint64(0, 1);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(result->Uint64(0, 2).value(), 7u);
}

TEST_F(PgTest, SessionTimeoutsAreSetUnlessTheUrlSetsThem) {
  auto settings = connection_->Query("timeouts",
                                     "SELECT current_setting('statement_timeout'), "
                                     "current_setting('idle_in_transaction_session_timeout')");
  ASSERT_TRUE(settings.ok()) << settings.error().ToString();
  EXPECT_EQ(settings->Text(0, 0).value(), "1min");
  EXPECT_EQ(settings->Text(0, 1).value(), "30s");
  std::optional<Connection> own = Open("&options=-c%20statement_timeout%3D5s");
  ASSERT_TRUE(own.has_value());
  auto kept = own->Query("timeouts",
                         "SELECT current_setting('statement_timeout'), "
                         "current_setting('idle_in_transaction_session_timeout')");
  ASSERT_TRUE(kept.ok()) << kept.error().ToString();
  EXPECT_EQ(kept->Text(0, 0).value(), "5s");
  EXPECT_EQ(kept->Text(0, 1).value(), "30s");
}

TEST_F(PgTest, ATransactionIsNeitherNestedNorEndedTwice) {
  ASSERT_TRUE(Run("CREATE TABLE t(k int8)").ok());
  auto outer = Transaction::Begin(*connection_);
  ASSERT_TRUE(outer.ok());
  auto nested = Transaction::Begin(*connection_);
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().code, ErrorCode::kInternal);
  ASSERT_TRUE(Run("INSERT INTO t VALUES (1)").ok());
  ASSERT_TRUE(outer->Commit().ok());  // the refused Begin did not end it

  // Someone else ended the transaction behind the guard's back.
  auto ended = Transaction::Begin(*connection_);
  ASSERT_TRUE(ended.ok());
  ASSERT_TRUE(Run("COMMIT").ok());
  Status commit = ended->Commit();
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.error().code, ErrorCode::kInternal);
  auto rolled = Transaction::Begin(*connection_);
  ASSERT_TRUE(rolled.ok());
  ASSERT_TRUE(Run("ROLLBACK").ok());
  EXPECT_EQ(rolled->Rollback().error().code, ErrorCode::kInternal);
}

// The server dies while it runs COMMIT (a deferred trigger, which runs at
// COMMIT, ends its own session): the client cannot know whether the
// transaction committed, and Commit says exactly that, not a plain kIo.
TEST_F(PgTest, AConnectionLostDuringCommitLeavesTheOutcomeUnknown) {
  ASSERT_TRUE(
      connection_
          ->ExecuteScript("schema", "CREATE TABLE t(k int8);" + test::DieAtCommitTriggerSql("t"))
          .ok());
  auto transaction = Transaction::Begin(*connection_);
  ASSERT_TRUE(transaction.ok());
  ASSERT_TRUE(Run("INSERT INTO t VALUES (1)").ok());
  Status commit = transaction->Commit();
  ASSERT_FALSE(commit.ok());
  EXPECT_TRUE(IsCommitOutcomeUnknown(commit.error())) << commit.error().ToString();
  EXPECT_TRUE(IsCommitOutcomeUnknown(commit.error().WithContext("append")));
  EXPECT_EQ(commit.error().sqlstate, "08007");
  EXPECT_TRUE(IsConnectionLost(commit.error()));
  EXPECT_NE(commit.error().message.find("may or may not have committed"), std::string::npos);
  // Here it did not: the server died before writing the commit.
  std::optional<Connection> fresh = Open();
  ASSERT_TRUE(fresh.has_value());
  auto rows = fresh->Query("count", "SELECT count(*)::int8 FROM t");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int64(0, 0).value(), 0);
}

TEST_F(PgTest, TheHarnessBuildsNoStatementFromAnOddDatabaseName) {
  for (const std::string name : {"x; DROP DATABASE postgres", "Test", "", "a-b", "a\"b"}) {
    Status dropped = database_.cluster().DropDatabase(name);
    ASSERT_FALSE(dropped.ok()) << name;
    EXPECT_EQ(dropped.error().code, ErrorCode::kInvalidArgument) << name;
  }
  EXPECT_TRUE(database_.cluster().DropDatabase("no_such_database").ok());
}

// A server restart ends every session: the next call says so, in a way a
// caller can test for, and a new connection works.
TEST_F(PgTest, ARestartedServerIsAConnectionLostAndANewConnectionWorks) {
  ASSERT_TRUE(database_.cluster().Restart().ok());
  Status after = Run("SELECT 1");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kIo);
  EXPECT_TRUE(IsConnectionLost(after.error())) << after.error().ToString();
  EXPECT_TRUE(IsConnectionLost(after.error().WithContext("append")));
  EXPECT_FALSE(connection_->IsAlive());
  std::optional<Connection> fresh = Open();
  ASSERT_TRUE(fresh.has_value());
  EXPECT_TRUE(fresh->Execute("after restart", "SELECT 1").ok());
}

}  // namespace
}  // namespace attest::pg
