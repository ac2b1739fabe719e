// Conformance (store_conformance.h): challenges shared by every verifier on
// one database. A nonce is redeemed once whichever store issued it and
// however many redeem it at once, expires by the database's clock, and the
// per-requester and per-node bounds never let a stranger void the node's
// own challenge.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/store/store_conformance.h"

namespace attest::service::test {

TimePoint ChallengeConformance::MustIssue(ServiceStore& store, int node, int nonce,
                                          std::string_view requester,
                                          std::chrono::milliseconds lifetime,
                                          ChallengeBounds bounds) {
  auto issued =
      store.RecordChallenge(NodeId(node), ChallengeNonce(nonce), requester, lifetime, bounds);
  EXPECT_TRUE(issued.ok()) << issued.error().ToString();
  return issued.ok() ? *issued : TimePoint{};
}

ChallengeRedemption ChallengeConformance::Redeem(ServiceStore& store, int node, int nonce) {
  auto redeemed = store.RedeemChallenge(NodeId(node), ChallengeNonce(nonce));
  EXPECT_TRUE(redeemed.ok()) << redeemed.error().ToString();
  return redeemed.ok() ? *redeemed : ChallengeRedemption::kUnknown;
}

namespace {

using std::chrono::milliseconds;

TEST_P(ChallengeConformance, IsValidOnceThenReusedAndExpiresByTheDatabaseClock) {
  const TimePoint before = std::chrono::system_clock::now();
  const TimePoint expires_at = MustIssue(*store_, 1, 1, "192.0.2.1");
  const TimePoint after = std::chrono::system_clock::now();
  // The database's clock is this host's in the tests; a second of slack.
  EXPECT_GE(expires_at, before + kMinute - std::chrono::seconds(1));
  EXPECT_LE(expires_at, after + kMinute + std::chrono::seconds(1));
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kReused);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kReused);
}

TEST_P(ChallengeConformance, IssuedAtOneStoreIsRedeemedOnceAtAnother) {
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_NE(other, nullptr);
  MustIssue(*store_, 1, 1, "192.0.2.1");
  MustIssue(*other, 1, 2, "192.0.2.1");
  EXPECT_EQ(Redeem(*other, 1, 1), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kReused);
  EXPECT_EQ(Redeem(*store_, 1, 2), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*other, 1, 2), ChallengeRedemption::kReused);
}

TEST_P(ChallengeConformance, AnotherNodesOrANeverIssuedNonceIsUnknownAndConsumesNothing) {
  MustIssue(*store_, 1, 1, "192.0.2.1");
  EXPECT_EQ(Redeem(*store_, 2, 1), ChallengeRedemption::kUnknown) << "issued to node 1";
  EXPECT_EQ(Redeem(*store_, 1, 99), ChallengeRedemption::kUnknown);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kValid);
}

TEST_P(ChallengeConformance, AnExpiredChallengeIsExpiredOnceThenReused) {
  MustIssue(*store_, 1, 1, "192.0.2.1", milliseconds(30));
  MustIssue(*store_, 1, 2, "192.0.2.1", kMinute);
  std::this_thread::sleep_for(milliseconds(120));
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kExpired);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kReused);
  EXPECT_EQ(Redeem(*store_, 1, 2), ChallengeRedemption::kValid) << "the other one has not expired";
}

TEST_P(ChallengeConformance, ANonceIsRecordedOnceForAnyNode) {
  MustIssue(*store_, 1, 1, "192.0.2.1");
  auto again = store_->RecordChallenge(NodeId(1), ChallengeNonce(1), "192.0.2.1", kMinute, {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().ToString();
  auto elsewhere = store_->RecordChallenge(NodeId(2), ChallengeNonce(1), "192.0.2.9", kMinute, {});
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(Redeem(*store_, 2, 1), ChallengeRedemption::kUnknown);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kValid);
}

TEST_P(ChallengeConformance, MalformedArgumentsAreRefusedAndRecordNothing) {
  Bytes short_nonce(31, 0x01);
  auto refused = store_->RecordChallenge(NodeId(1), short_nonce, "192.0.2.1", kMinute, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  for (milliseconds lifetime : {milliseconds(0), milliseconds(-5)}) {
    refused = store_->RecordChallenge(NodeId(1), ChallengeNonce(1), "192.0.2.1", lifetime, {});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  }
  refused = store_->RecordChallenge(NodeId(1), ChallengeNonce(1), "", kMinute, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  refused = store_->RecordChallenge(NodeId(1), ChallengeNonce(1), "192.0.2.1", kMinute, {0, 256});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kUnknown);
}

// Verifiers on several connections redeem the same nonce at once: one wins.
TEST_P(ChallengeConformance, ConcurrentRedemptionsOnSeveralStoresAcceptOnce) {
  constexpr int kStores = 3;
  constexpr int kThreadsPerStore = 2;
  constexpr int kRounds = 15;
  std::vector<std::unique_ptr<ServiceStore>> stores;
  for (int s = 0; s < kStores; ++s) {
    stores.push_back(Connect());
    ASSERT_NE(stores.back(), nullptr);
  }
  for (int round = 0; round < kRounds; ++round) {
    MustIssue(*store_, 1, round, "192.0.2.1");
    std::atomic<int> valid{0};
    std::atomic<int> reused{0};
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kStores * kThreadsPerStore; ++t) {
      threads.emplace_back([&, t] {
        auto redeemed = stores[static_cast<std::size_t>(t % kStores)]->RedeemChallenge(
            NodeId(1), ChallengeNonce(round));
        if (!redeemed.ok()) {
          ++other;
        } else if (*redeemed == ChallengeRedemption::kValid) {
          ++valid;
        } else if (*redeemed == ChallengeRedemption::kReused) {
          ++reused;
        } else {
          ++other;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(valid.load(), 1) << "round " << round;
    EXPECT_EQ(reused.load(), kStores * kThreadsPerStore - 1) << "round " << round;
    EXPECT_EQ(other.load(), 0) << "round " << round;
  }
}

// A requester past its bound loses its own oldest outstanding challenge,
// never the node's.
TEST_P(ChallengeConformance, ARequesterPastItsBoundLosesOnlyItsOwnOldest) {
  const ChallengeBounds bounds{2, 256};
  MustIssue(*store_, 1, 100, "node", kMinute, bounds);
  for (int n = 1; n <= 5; ++n) MustIssue(*store_, 1, n, "stranger", kMinute, bounds);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kUnknown);
  EXPECT_EQ(Redeem(*store_, 1, 3), ChallengeRedemption::kUnknown);
  EXPECT_EQ(Redeem(*store_, 1, 4), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 5), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 100), ChallengeRedemption::kValid) << "the node's own";
  // Redeemed ones are not outstanding: the requester may ask again.
  MustIssue(*store_, 1, 6, "stranger", kMinute, bounds);
  MustIssue(*store_, 1, 7, "stranger", kMinute, bounds);
  EXPECT_EQ(Redeem(*store_, 1, 6), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 7), ChallengeRedemption::kValid);
}

// A full node makes room from redeemed or expired rows first, else from the
// requester holding the most outstanding; the node, holding one, keeps it.
TEST_P(ChallengeConformance, AFullNodeEvictsTheLargestHolderNeverTheNode) {
  const ChallengeBounds bounds{4, 8};
  MustIssue(*store_, 1, 100, "node", kMinute, bounds);
  for (int n = 1; n <= 4; ++n) MustIssue(*store_, 1, n, "a", kMinute, bounds);
  for (int n = 11; n <= 13; ++n) MustIssue(*store_, 1, n, "b", kMinute, bounds);
  MustIssue(*store_, 1, 21, "c", kMinute, bounds);  // full: a (4) loses its oldest
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kUnknown);
  EXPECT_EQ(Redeem(*store_, 1, 11), ChallengeRedemption::kValid);  // b's, now only remembered
  MustIssue(*store_, 1, 22, "c", kMinute, bounds);                 // full: the redeemed one goes
  EXPECT_EQ(Redeem(*store_, 1, 11), ChallengeRedemption::kUnknown);
  for (int n : {2, 3, 4, 12, 13, 21, 22, 100}) {
    EXPECT_EQ(Redeem(*store_, 1, n), ChallengeRedemption::kValid) << n;
  }
}

TEST_P(ChallengeConformance, PruningDeletesOnlyWhatExpiredLongerAgoThanKept) {
  MustIssue(*store_, 1, 1, "192.0.2.1", milliseconds(20));
  MustIssue(*store_, 1, 2, "192.0.2.1", milliseconds(20));
  MustIssue(*store_, 1, 3, "192.0.2.1", kMinute);
  EXPECT_EQ(Redeem(*store_, 1, 2), ChallengeRedemption::kValid);
  std::this_thread::sleep_for(milliseconds(100));
  auto kept = store_->PruneChallenges(std::chrono::seconds(300));
  ASSERT_TRUE(kept.ok()) << kept.error().ToString();
  EXPECT_EQ(*kept, 0u) << "expired less than 300 s ago";
  auto pruned = store_->PruneChallenges(std::chrono::seconds(0));
  ASSERT_TRUE(pruned.ok()) << pruned.error().ToString();
  EXPECT_EQ(*pruned, 2u);
  EXPECT_EQ(Redeem(*store_, 1, 1), ChallengeRedemption::kUnknown);
  EXPECT_EQ(Redeem(*store_, 1, 2), ChallengeRedemption::kUnknown);
  EXPECT_EQ(Redeem(*store_, 1, 3), ChallengeRedemption::kValid);
  auto negative = store_->PruneChallenges(std::chrono::seconds(-1));
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace attest::service::test
