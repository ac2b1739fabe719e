#include "attest/sqlite.h"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace attest {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/sqlite_test_" + std::to_string(::getpid()) + ".db";
    ::unlink(path_.c_str());
    auto db = SqliteDatabase::Open(path_, SqliteDatabase::OpenMode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_.emplace(std::move(db).value());
    ASSERT_TRUE(db_->Execute("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)").ok());
  }
  void TearDown() override {
    db_.reset();
    ::unlink(path_.c_str());
  }
  std::int64_t Count() {
    auto statement = db_->Prepare("SELECT count(*) FROM t");
    EXPECT_TRUE(statement.ok());
    EXPECT_TRUE(*statement->Step());
    return statement->ColumnInt64(0);
  }
  Status Insert(std::int64_t key) {
    ATTEST_ASSIGN_OR_RETURN(auto statement, db_->Prepare("INSERT INTO t(k, v) VALUES (?, ?)"));
    ATTEST_RETURN_IF_ERROR(statement.BindInt64(1, key));
    ATTEST_RETURN_IF_ERROR(statement.BindText(2, "value"));
    return statement.Run();
  }

  std::string path_;
  std::optional<SqliteDatabase> db_;
};

TEST_F(SqliteTest, TransactionCommits) {
  ASSERT_TRUE(db_->WithTransaction([&] { return Insert(1); }).ok());
  EXPECT_EQ(Count(), 1);
}

TEST_F(SqliteTest, ErrorRollsBackEverything) {
  Status status = db_->WithTransaction([&]() -> Status {
    ATTEST_RETURN_IF_ERROR(Insert(1));
    ATTEST_RETURN_IF_ERROR(Insert(2));
    return Insert(1);  // primary key violation
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(Count(), 0);
}

TEST_F(SqliteTest, ExceptionRollsBackEverything) {
  EXPECT_THROW(db_->WithTransaction([&]() -> Status {
    EXPECT_TRUE(Insert(1).ok());
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(Count(), 0);
  EXPECT_TRUE(db_->WithTransaction([&] { return Insert(3); }).ok());
  EXPECT_EQ(Count(), 1);
}

TEST_F(SqliteTest, OpenWithoutCreateFailsForMissingFile) {
  auto db = SqliteDatabase::Open(path_ + ".missing", SqliteDatabase::OpenMode::kReadWrite);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kIo);
  EXPECT_NE(db.error().message.find(".missing"), std::string::npos);
}

TEST_F(SqliteTest, BlobsAndTextRoundTrip) {
  ASSERT_TRUE(db_->Execute("CREATE TABLE b(x BLOB NOT NULL)").ok());
  auto insert = db_->Prepare("INSERT INTO b(x) VALUES (?)");
  ASSERT_TRUE(insert.ok());
  ASSERT_TRUE(insert->BindBlob(1, Bytes{}).ok());  // empty, not NULL
  ASSERT_TRUE(insert->Run().ok());
  Bytes data = {0, 1, 2, 255};
  ASSERT_TRUE(insert->BindBlob(1, data).ok());
  ASSERT_TRUE(insert->Run().ok());
  auto select = db_->Prepare("SELECT x FROM b ORDER BY rowid");
  ASSERT_TRUE(*select->Step());
  EXPECT_FALSE(select->ColumnIsNull(0));
  EXPECT_EQ(select->ColumnBlob(0).size(), 0u);
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(Bytes(select->ColumnBlob(0).begin(), select->ColumnBlob(0).end()), data);
  EXPECT_FALSE(*select->Step());
}

}  // namespace
}  // namespace attest
