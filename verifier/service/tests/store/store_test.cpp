// The SQLite ServiceStore: files, schema versions, round trips, reopening,
// CRL numbers, concurrent use.
#include <atomic>
#include <thread>

#include <sys/stat.h>

#include "attest/sqlite.h"

#include "tests/store/store_test_util.h"

namespace attest::service::test {
namespace {

void ExpectSameNode(const NodeRecord& a, const NodeRecord& b) {
  EXPECT_EQ(a.node_id, b.node_id);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.ek_public, b.ek_public);
  EXPECT_EQ(a.ek_certificate, b.ek_certificate);
  EXPECT_EQ(a.ak_public, b.ak_public);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.enrolled_at, b.enrolled_at);
  EXPECT_EQ(a.last_attestation, b.last_attestation);
  EXPECT_EQ(a.last_verdict_json, b.last_verdict_json);
  EXPECT_EQ(a.last_clock, b.last_clock);
  EXPECT_EQ(a.last_reset_count, b.last_reset_count);
  EXPECT_EQ(a.last_restart_count, b.last_restart_count);
  ASSERT_EQ(a.boot_cache.has_value(), b.boot_cache.has_value());
  if (a.boot_cache) {
    EXPECT_EQ(a.boot_cache->reset_count, b.boot_cache->reset_count);
    EXPECT_EQ(a.boot_cache->restart_count, b.boot_cache->restart_count);
    EXPECT_EQ(a.boot_cache->boot_log_digest, b.boot_cache->boot_log_digest);
    EXPECT_EQ(a.boot_cache->verified_state_json, b.boot_cache->verified_state_json);
  }
  ASSERT_EQ(a.runtime_cache.has_value(), b.runtime_cache.has_value());
  if (a.runtime_cache) {
    EXPECT_EQ(a.runtime_cache->reset_count, b.runtime_cache->reset_count);
    EXPECT_EQ(a.runtime_cache->restart_count, b.runtime_cache->restart_count);
    EXPECT_EQ(a.runtime_cache->entries, b.runtime_cache->entries);
    EXPECT_EQ(a.runtime_cache->verified_state_json, b.runtime_cache->verified_state_json);
  }
  EXPECT_EQ(a.reenroll_allowed_until, b.reenroll_allowed_until);
}

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

// Migrations 2-4 (the runtime cursor's columns, the ledger drain's intent,
// the enrollments' version) on a version 1 database: its nodes are kept,
// with no runtime cache.
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

TEST_F(StoreTest, ANodeSurvivesReopeningWithEveryField) {
  NodeRecord node = MakeNode(1);
  MustCommit(StoreChange{.node = node});
  store_ = Open();
  auto read = store_->GetNode(node.node_id);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_TRUE(read->has_value());
  ExpectSameNode(**read, node);
  EXPECT_EQ((*read)->version, 1);
}

TEST_F(StoreTest, OptionalFieldsLeftEmptyStayEmpty) {
  NodeRecord node = MakeNode(2);
  node.ek_certificate.reset();
  node.last_attestation.reset();
  node.last_clock.reset();
  node.last_reset_count.reset();
  node.last_restart_count.reset();
  node.boot_cache.reset();
  node.runtime_cache.reset();
  node.reenroll_allowed_until.reset();
  node.last_verdict_json = "";
  MustCommit(StoreChange{.node = node});
  auto read = store_->GetNode(node.node_id);
  ASSERT_TRUE(read.ok() && read->has_value());
  ExpectSameNode(**read, node);
}

TEST_F(StoreTest, TimesAreKeptToTheMicrosecond) {
  NodeRecord node = MakeNode(3);
  node.enrolled_at = At(1'790'000'000) + std::chrono::nanoseconds(123'456'789);
  MustCommit(StoreChange{.node = node});
  auto read = store_->GetNode(node.node_id);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->enrolled_at, At(1'790'000'000) + std::chrono::microseconds(123'456));
}

TEST_F(StoreTest, AnUnknownNodeIsAbsentNotAnError) {
  auto read = store_->GetNode(NodeId(99));
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value());
}

TEST_F(StoreTest, ListNodesFiltersByStateAndPagesByNodeId) {
  for (int n = 0; n < 5; ++n) {
    NodeRecord node = MakeNode(n);
    node.state = n % 2 == 0 ? NodeState::kTrusted : NodeState::kUntrusted;
    MustCommit(StoreChange{.node = node});
  }
  auto all = store_->ListNodes(std::nullopt, "", 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  auto trusted = store_->ListNodes(NodeState::kTrusted, "", 100);
  ASSERT_TRUE(trusted.ok());
  ASSERT_EQ(trusted->size(), 3u);
  EXPECT_EQ((*trusted)[0].node_id, NodeId(0));
  EXPECT_EQ((*trusted)[2].node_id, NodeId(4));
  auto page = store_->ListNodes(std::nullopt, NodeId(1), 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].node_id, NodeId(2));
  EXPECT_EQ((*page)[1].node_id, NodeId(3));

  auto counts = store_->CountNodesByState();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 5u) << "every state, zeros included";
  for (const auto& [state, count] : *counts) {
    std::uint64_t expected = state == NodeState::kTrusted     ? 3
                             : state == NodeState::kUntrusted ? 2
                                                              : 0;
    EXPECT_EQ(count, expected) << NodeStateName(state);
  }
}

TEST_F(StoreTest, EnrollmentsTokensAndPoliciesRoundTrip) {
  EnrollmentRecord enrollment = MakeEnrollment(1);
  TokenRecord token = MakeTokenRecord(1);
  MustCommit(StoreChange{.enrollment = enrollment, .token = token, .policy = MakePolicy(0)});
  store_ = Open();

  auto read_enrollment = store_->GetEnrollment(enrollment.enrollment_id);
  ASSERT_TRUE(read_enrollment.ok() && read_enrollment->has_value());
  EXPECT_EQ((*read_enrollment)->node_id, enrollment.node_id);
  EXPECT_EQ((*read_enrollment)->secret_digest, enrollment.secret_digest);
  EXPECT_EQ((*read_enrollment)->state, EnrollmentState::kPending);
  EXPECT_EQ((*read_enrollment)->expires_at, enrollment.expires_at);
  EXPECT_EQ((*read_enrollment)->failed_attempts, 2u);
  EXPECT_FALSE((*read_enrollment)->ek_certificate.has_value());

  // Compare-and-set: the activated enrollment, written from the version
  // read, replaces the pending one; a write from a stale read is refused.
  EXPECT_EQ((*read_enrollment)->version, 1);
  EnrollmentRecord stale = **read_enrollment;
  EnrollmentRecord activated = **read_enrollment;
  activated.state = EnrollmentState::kActivated;
  MustCommit(StoreChange{.enrollment = activated});
  read_enrollment = store_->GetEnrollment(enrollment.enrollment_id);
  ASSERT_TRUE(read_enrollment.ok() && read_enrollment->has_value());
  EXPECT_EQ((*read_enrollment)->state, EnrollmentState::kActivated);
  EXPECT_EQ((*read_enrollment)->version, 2);
  stale.failed_attempts = 3;  // a wrong-secret attempt that read "pending" earlier
  auto refused = store_->Commit(StoreChange{.enrollment = stale});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBusy);
  auto inserted_twice = store_->Commit(StoreChange{.enrollment = enrollment});  // version 0 again
  ASSERT_FALSE(inserted_twice.ok());
  EXPECT_EQ(inserted_twice.error().code, ErrorCode::kBusy);
  read_enrollment = store_->GetEnrollment(enrollment.enrollment_id);
  ASSERT_TRUE(read_enrollment.ok() && read_enrollment->has_value());
  EXPECT_EQ((*read_enrollment)->state, EnrollmentState::kActivated) << "activated stays";
  EXPECT_EQ((*read_enrollment)->failed_attempts, 2u);

  auto read_token = store_->GetToken(token.token_id);
  ASSERT_TRUE(read_token.ok() && read_token->has_value());
  EXPECT_EQ((*read_token)->role, Role::kOperator);
  EXPECT_EQ((*read_token)->secret_digest, token.secret_digest);
  EXPECT_FALSE((*read_token)->revoked_at.has_value());
  token.revoked_at = At(1'790'001'000);
  MustCommit(StoreChange{.token = token});
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].revoked_at, token.revoked_at);

  MustCommit(StoreChange{.policy = MakePolicy(4)});
  auto policy = store_->CurrentPolicy();
  ASSERT_TRUE(policy.ok() && policy->has_value());
  EXPECT_EQ((*policy)->serial, 4u);
  EXPECT_EQ((*policy)->document, MakePolicy(4).document);
}

TEST_F(StoreTest, CrlNumbersIncreaseAndSurviveReopening) {
  for (std::uint64_t expected = 1; expected <= 3; ++expected) {
    auto number = store_->NextCrlNumber();
    ASSERT_TRUE(number.ok()) << number.error().ToString();
    EXPECT_EQ(*number, expected);
  }
  store_ = Open();
  auto number = store_->NextCrlNumber();
  ASSERT_TRUE(number.ok());
  EXPECT_EQ(*number, 4u);
}

TEST_F(StoreTest, AMalformedRecordIsRefusedNamingTheField) {
  NodeRecord node = MakeNode(1);
  node.node_id = "NOT-HEX";
  auto result = store_->Commit(StoreChange{.node = node});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("node.node_id"), std::string::npos)
      << result.error().message;

  TokenRecord token = MakeTokenRecord(1);
  token.secret_digest.resize(31);
  result = store_->Commit(StoreChange{.token = token});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("token.secret_digest"), std::string::npos);
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE(tokens->empty());
}

TEST_F(StoreTest, ThreadsCommitAndReadAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kNodesPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kNodesPerThread; ++i) {
        const int n = t * 1000 + i;
        if (!store_->Commit(StoreChange{.node = MakeNode(n)}).ok()) ++failures;
        auto read = store_->GetNode(NodeId(n));
        if (!read.ok() || !read->has_value()) ++failures;
        if (!store_->ListNodes(std::nullopt, "", 10).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto all = store_->ListNodes(std::nullopt, "", 1000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<std::size_t>(kThreads * kNodesPerThread));
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
