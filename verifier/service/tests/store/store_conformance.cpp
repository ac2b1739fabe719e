// Conformance (store_conformance.h): the fixture, and records read back as
// written (every field, to the microsecond, after reconnecting), listing and
// counting nodes, enrollments' compare-and-set, tokens, policies, CRL
// numbers, malformed records, and threads sharing one store.
#include "tests/store/store_conformance.h"

#include <atomic>
#include <thread>
#include <vector>

namespace attest::service::test {

void ServiceStoreConformance::SetUp() {
  backend_ = GetParam().make();
  ASSERT_NE(backend_, nullptr);
  auto store = backend_->Create();
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  store_ = std::move(store).value();
}

std::unique_ptr<ServiceStore> ServiceStoreConformance::Connect() {
  auto store = backend_->Connect();
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

CommitResult ServiceStoreConformance::MustCommit(const StoreChange& change) {
  auto result = store_->Commit(change);
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  return result.ok() ? std::move(result).value() : CommitResult{};
}

namespace {

TEST_P(ServiceStoreConformance, ANodeSurvivesReopeningWithEveryField) {
  NodeRecord node = MakeNode(1);
  MustCommit(StoreChange{.node = node});
  store_ = Connect();
  auto read = store_->GetNode(node.node_id);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_TRUE(read->has_value());
  ExpectSameNode(**read, node);
  EXPECT_EQ((*read)->version, 1);
}

TEST_P(ServiceStoreConformance, OptionalFieldsLeftEmptyStayEmpty) {
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

TEST_P(ServiceStoreConformance, TimesAreKeptToTheMicrosecond) {
  NodeRecord node = MakeNode(3);
  node.enrolled_at = At(1'790'000'000) + std::chrono::nanoseconds(123'456'789);
  MustCommit(StoreChange{.node = node});
  auto read = store_->GetNode(node.node_id);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->enrolled_at, At(1'790'000'000) + std::chrono::microseconds(123'456));
}

TEST_P(ServiceStoreConformance, AnUnknownNodeIsAbsentNotAnError) {
  auto read = store_->GetNode(NodeId(99));
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value());
  auto for_challenge = store_->GetNodeForChallenge(NodeId(99));
  ASSERT_TRUE(for_challenge.ok());
  EXPECT_FALSE(for_challenge->has_value());
}

// A fresh store (PostgreSQL: not yet solo) reads the node for a challenge
// as GetNode does, the latest commit included.
TEST_P(ServiceStoreConformance, TheNodeForAChallengeIsTheStoredNode) {
  NodeRecord node = MakeNode(1);
  MustCommit(StoreChange{.node = node});
  NodeRecord updated = MustRead(*store_, node.node_id);
  updated.hostname = "renamed.example";
  MustCommit(StoreChange{.node = updated});
  auto read = store_->GetNodeForChallenge(node.node_id);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->hostname, "renamed.example");
  EXPECT_EQ((*read)->version, 2);
}

// The trust facts of trusted nodes only, paged as ListNodes pages: the last
// attestation, or the enrollment before any, and the stored version.
TEST_P(ServiceStoreConformance, ListTrustedNodesGivesEachTrustedNodesLastAttestationAndVersion) {
  for (int n = 0; n < 5; ++n) {
    NodeRecord node = MakeNode(n);
    node.state = n == 3 ? NodeState::kUntrusted : NodeState::kTrusted;
    if (n == 1) node.last_attestation.reset();
    MustCommit(StoreChange{.node = node});
  }
  NodeRecord updated = MustRead(*store_, NodeId(2));
  MustCommit(StoreChange{.node = updated});  // version 2

  auto all = store_->ListTrustedNodes("", 100);
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  ASSERT_EQ(all->size(), 4u);
  const std::vector<int> expected = {0, 1, 2, 4};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const NodeRecord stored = MustRead(*store_, NodeId(expected[i]));
    EXPECT_EQ((*all)[i].node_id, stored.node_id);
    EXPECT_EQ((*all)[i].last_attested, stored.last_attestation.value_or(stored.enrolled_at));
    EXPECT_EQ((*all)[i].version, stored.version);
  }
  EXPECT_EQ((*all)[1].last_attested, MakeNode(1).enrolled_at) << "never attested: enrolled_at";
  EXPECT_EQ((*all)[2].version, 2);

  auto page = store_->ListTrustedNodes(NodeId(1), 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].node_id, NodeId(2));
  EXPECT_EQ((*page)[1].node_id, NodeId(4)) << "the untrusted node 3 is skipped";
  auto none = store_->ListTrustedNodes(NodeId(4), 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(ServiceStoreConformance, ListNodesFiltersByStateAndPagesByNodeId) {
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

TEST_P(ServiceStoreConformance, EnrollmentsTokensAndPoliciesRoundTrip) {
  EnrollmentRecord enrollment = MakeEnrollment(1);
  TokenRecord token = MakeTokenRecord(1);
  MustCommit(StoreChange{.enrollment = enrollment, .token = token, .policy = MakePolicy(0)});
  store_ = Connect();

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

TEST_P(ServiceStoreConformance, CrlNumbersIncreaseAndSurviveReopening) {
  for (std::uint64_t expected = 1; expected <= 3; ++expected) {
    auto number = store_->NextCrlNumber();
    ASSERT_TRUE(number.ok()) << number.error().ToString();
    EXPECT_EQ(*number, expected);
  }
  store_ = Connect();
  auto number = store_->NextCrlNumber();
  ASSERT_TRUE(number.ok());
  EXPECT_EQ(*number, 4u);
}

TEST_P(ServiceStoreConformance, AMalformedRecordIsRefusedNamingTheField) {
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

TEST_P(ServiceStoreConformance, ThreadsCommitAndReadAtOnce) {
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

}  // namespace
}  // namespace attest::service::test
