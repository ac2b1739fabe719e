// The SQLite ServiceStore's own: its file (mode, missing, foreign),
// schema versions and migrations. What every backend does:
// store_conformance.cpp and the other *_conformance.cpp.
#include <sys/stat.h>

#include "attest/sqlite.h"

#include "tests/store/store_test_util.h"

namespace attest::service::test {
namespace {

TEST_F(StoreTest, CreatesTheFileWithMode0600) {
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  MustCommit(StoreChange{.node = MakeNode(1)});  // the WAL file exists once written
  ASSERT_EQ(::stat((path_ + "-wal").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0077, 0u) << "the WAL holds the same rows";
}

TEST_F(StoreTest, OpeningAMissingFileWithoutCreateIsNotFound) {
  auto store = OpenSqliteServiceStore(dir_.File("missing.db"), false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kNotFound);
  EXPECT_NE(store.error().message.find("missing.db"), std::string::npos);
}

TEST_F(StoreTest, AnotherSqliteFileIsNotAServiceDatabase) {
  const std::string other = dir_.File("other.db");
  {
    auto db = SqliteDatabase::Open(other, SqliteDatabase::OpenMode::kReadWriteCreate);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Execute("CREATE TABLE t(x)").ok());
  }
  auto store = OpenSqliteServiceStore(other, false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(store.error().message.find("not a verifier service database"), std::string::npos);
}

TEST_F(StoreTest, ANewerSchemaVersionIsUnsupportedNamingBothVersions) {
  store_.reset();
  ExecuteSql(path_, "INSERT INTO schema_version(version, applied_at) VALUES (" +
                        std::to_string(kServiceSchemaVersion + 1) + ", 'later')");
  auto store = OpenSqliteServiceStore(path_, false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(store.error().message.find("version " + std::to_string(kServiceSchemaVersion + 1)),
            std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("(" + std::to_string(kServiceSchemaVersion) + ")"),
            std::string::npos)
      << store.error().message;
}

// Migrations 2-5 (the runtime cursor's columns, the ledger drain's intent,
// the enrollments' version, the shared challenges) on a version 1
// database: its nodes are kept, with no runtime cache.
TEST_F(StoreTest, AVersion1DatabaseMigratesKeepingItsNodes) {
  NodeRecord node = MakeNode(1);
  node.runtime_cache.reset();
  MustCommit(StoreChange{.node = node});
  store_.reset();
  // What migration 1 alone left: the file as the previous verifier wrote it.
  ExecuteSql(path_,
             "ALTER TABLE nodes DROP COLUMN runtime_state; "
             "ALTER TABLE nodes DROP COLUMN runtime_entries; "
             "ALTER TABLE nodes DROP COLUMN runtime_restart_count; "
             "ALTER TABLE nodes DROP COLUMN runtime_reset_count; "
             "DROP TABLE ledger_drain; "
             "ALTER TABLE enrollments DROP COLUMN version; "
             "DROP TABLE answered_challenges; DROP TABLE answered_challenges_horizon; "
             "DELETE FROM schema_version WHERE version > 1");
  store_ = Open();
  auto read = store_->GetNode(node.node_id);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_TRUE(read->has_value());
  ExpectSameNode(**read, node);
  NodeRecord cached = **read;
  cached.runtime_cache = RuntimeCache{7, 1, 3, "{}"};
  MustCommit(StoreChange{.node = cached});
  read = store_->GetNode(node.node_id);
  ASSERT_TRUE(read.ok() && read->has_value());
  ExpectSameNode(**read, cached);
}

TEST(NamesTest, StatesAndRolesRoundTripAndUnknownNamesAreRefused) {
  for (NodeState state : {NodeState::kPendingApproval, NodeState::kEnrolled, NodeState::kTrusted,
                          NodeState::kUntrusted, NodeState::kRevoked}) {
    EXPECT_EQ(ParseNodeState(NodeStateName(state)), state);
  }
  EXPECT_EQ(NodeStateName(NodeState::kPendingApproval), "pending_approval");
  for (Role role : {Role::kReader, Role::kOperator, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(RoleName(role)), role);
  }
  EXPECT_FALSE(ParseNodeState("Trusted").has_value());
  EXPECT_FALSE(ParseRole("root").has_value());
}

}  // namespace
}  // namespace attest::service::test
