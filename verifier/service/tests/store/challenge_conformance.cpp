// Conformance (store_conformance.h): challenges answered at any verifier on
// one database. A nonce is redeemed once, whichever store redeems it and
// however many redeem it at once; expiry is judged by the database's clock;
// pruning keeps what has not expired long enough.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/store/store_conformance.h"
#include "tests/store/store_records.h"

namespace attest::service::test {

ChallengeRedemption ChallengeConformance::Redeem(ServiceStore& store, int node, int nonce,
                                                 TimePoint expires_at) {
  auto redeemed = store.RedeemChallenge(NodeId(node), ChallengeNonce(nonce), expires_at);
  EXPECT_TRUE(redeemed.ok()) << redeemed.error().ToString();
  return redeemed.ok() ? *redeemed : ChallengeRedemption::kReused;
}

namespace {

using std::chrono::milliseconds;

TEST_P(ChallengeConformance, IsValidOnceThenReused) {
  const TimePoint expires_at = InAMinute();
  EXPECT_EQ(Redeem(*store_, 1, 1, expires_at), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 1, expires_at), ChallengeRedemption::kReused);
  EXPECT_EQ(Redeem(*store_, 1, 1, expires_at), ChallengeRedemption::kReused);
  EXPECT_EQ(Redeem(*store_, 1, 2, expires_at), ChallengeRedemption::kValid) << "another nonce";
}

TEST_P(ChallengeConformance, RedeemedAtOneStoreIsReusedAtAnother) {
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_NE(other, nullptr);
  const TimePoint expires_at = InAMinute();
  EXPECT_EQ(Redeem(*other, 1, 1, expires_at), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 1, expires_at), ChallengeRedemption::kReused);
  EXPECT_EQ(Redeem(*store_, 1, 2, expires_at), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*other, 1, 2, expires_at), ChallengeRedemption::kReused);
}

// The nonce is the key, whatever node it is presented for: the verifiers'
// MAC binds a nonce to one node, so a second node's "own" copy is a replay.
TEST_P(ChallengeConformance, ANonceIsRedeemedOnceForAnyNode) {
  const TimePoint expires_at = InAMinute();
  EXPECT_EQ(Redeem(*store_, 1, 1, expires_at), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 2, 1, expires_at), ChallengeRedemption::kReused);
}

TEST_P(ChallengeConformance, ExpiryIsJudgedByTheDatabaseClockAndRecordsNothing) {
  auto database_now = store_->DatabaseNow();
  ASSERT_TRUE(database_now.ok()) << database_now.error().ToString();
  // The database's clock is this host's in the tests; a second of slack.
  EXPECT_LT(std::chrono::abs(*database_now - std::chrono::system_clock::now()),
            std::chrono::seconds(1));
  const TimePoint past = *database_now - milliseconds(5);
  EXPECT_EQ(Redeem(*store_, 1, 1, past), ChallengeRedemption::kExpired);
  EXPECT_EQ(Redeem(*store_, 1, 1, past), ChallengeRedemption::kExpired) << "expired, not reused";
  const TimePoint soon = std::chrono::system_clock::now() + milliseconds(150);
  EXPECT_EQ(Redeem(*store_, 1, 2, soon), ChallengeRedemption::kValid);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Redeem(*store_, 1, 2, soon), ChallengeRedemption::kExpired)
      << "expiry is checked before reuse";
  EXPECT_EQ(Redeem(*store_, 1, 3, soon), ChallengeRedemption::kExpired);
}

TEST_P(ChallengeConformance, MalformedArgumentsAreRefusedAndRecordNothing) {
  Bytes short_nonce(31, 0x01);
  auto refused = store_->RedeemChallenge(NodeId(1), short_nonce, InAMinute());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  Bytes long_nonce(33, 0x01);
  refused = store_->RedeemChallenge(NodeId(1), long_nonce, InAMinute());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  refused = store_->RedeemChallenge("", ChallengeNonce(1), InAMinute());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  refused =
      store_->RedeemChallenge(NodeId(1), ChallengeNonce(1), TimePoint(std::chrono::seconds(-10)));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Redeem(*store_, 1, 1, InAMinute()), ChallengeRedemption::kValid);
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
  const TimePoint expires_at = InAMinute();
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> valid{0};
    std::atomic<int> reused{0};
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kStores * kThreadsPerStore; ++t) {
      threads.emplace_back([&, t] {
        auto redeemed = stores[static_cast<std::size_t>(t % kStores)]->RedeemChallenge(
            NodeId(1), ChallengeNonce(round), expires_at);
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

TEST_P(ChallengeConformance, PruningDeletesOnlyWhatExpiredLongerAgoThanKept) {
  const TimePoint soon = std::chrono::system_clock::now() + milliseconds(150);
  EXPECT_EQ(Redeem(*store_, 1, 1, soon), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 2, soon), ChallengeRedemption::kValid);
  EXPECT_EQ(Redeem(*store_, 1, 3, InAMinute()), ChallengeRedemption::kValid);
  std::this_thread::sleep_for(milliseconds(300));
  auto kept = store_->PruneChallenges(std::chrono::seconds(300));
  ASSERT_TRUE(kept.ok()) << kept.error().ToString();
  EXPECT_EQ(*kept, 0u) << "expired less than 300 s ago";
  auto pruned = store_->PruneChallenges(std::chrono::seconds(0));
  ASSERT_TRUE(pruned.ok()) << pruned.error().ToString();
  EXPECT_EQ(*pruned, 2u);
  // The unexpired one is still remembered.
  EXPECT_EQ(Redeem(*store_, 1, 3, InAMinute()), ChallengeRedemption::kReused);
  auto negative = store_->PruneChallenges(std::chrono::seconds(-1));
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, ErrorCode::kInvalidArgument);
}

// RecordAnsweredRoutineUpdate: the nonce is used up exactly when the
// routine update is recorded.
TEST_P(ChallengeConformance, AnAnsweredRoutineUpdateRedeemsTheNonceWithTheUpdate) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(*store_, NodeId(1)), 1);
  auto answered = store_->RecordAnsweredRoutineUpdate(routine, ChallengeNonce(1), InAMinute());
  ASSERT_TRUE(answered.ok()) << answered.error().ToString();
  EXPECT_EQ(*answered, ChallengeRedemption::kValid);
  NodeRecord read = MustRead(*store_, NodeId(1));
  ExpectRoutineFields(read, routine);
  EXPECT_EQ(read.version, routine.version + 1);
  EXPECT_EQ(Redeem(*store_, 1, 1, InAMinute()), ChallengeRedemption::kReused);
}

TEST_P(ChallengeConformance, AReusedOrExpiredAnswerRecordsNoUpdate) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  const NodeRecord before = MustRead(*store_, NodeId(1));
  ASSERT_EQ(Redeem(*store_, 1, 1, InAMinute()), ChallengeRedemption::kValid);
  auto reused =
      store_->RecordAnsweredRoutineUpdate(RoutineOf(before, 1), ChallengeNonce(1), InAMinute());
  ASSERT_TRUE(reused.ok()) << reused.error().ToString();
  EXPECT_EQ(*reused, ChallengeRedemption::kReused);
  auto expired = store_->RecordAnsweredRoutineUpdate(
      RoutineOf(before, 2), ChallengeNonce(2), std::chrono::system_clock::now() - milliseconds(5));
  ASSERT_TRUE(expired.ok()) << expired.error().ToString();
  EXPECT_EQ(*expired, ChallengeRedemption::kExpired);
  NodeRecord read = MustRead(*store_, NodeId(1));
  EXPECT_EQ(read.version, before.version) << "nothing was recorded";
  ExpectRoutineFields(read, before);
}

// The update refused after the answer was inserted: both roll back, so the
// node may answer the same challenge again once it has read itself anew.
TEST_P(ChallengeConformance, ARefusedUpdateLeavesTheNonceUnredeemed) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord first = RoutineOf(MustRead(*store_, NodeId(1)), 1);
  ASSERT_TRUE(store_->RecordRoutineUpdate(first).ok());
  auto stale = store_->RecordAnsweredRoutineUpdate(RoutineOf(first, 2), ChallengeNonce(1),
                                                   InAMinute());  // still version 1
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kBusy) << stale.error().ToString();
  NodeRecord changed_state = RoutineOf(MustRead(*store_, NodeId(1)), 3);
  changed_state.state = NodeState::kUntrusted;
  auto refused = store_->RecordAnsweredRoutineUpdate(changed_state, ChallengeNonce(1), InAMinute());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().ToString();
  NodeRecord read = MustRead(*store_, NodeId(1));
  ExpectRoutineFields(read, first);
  EXPECT_EQ(read.state, NodeState::kTrusted);
  EXPECT_EQ(Redeem(*store_, 1, 1, InAMinute()), ChallengeRedemption::kValid)
      << "the refused updates left the nonce unredeemed";
}

// Two verifiers record the same evidence at once: one update, one kReused.
TEST_P(ChallengeConformance, ConcurrentAnswersOfOneNonceRecordOneUpdate) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_NE(other, nullptr);
  ServiceStore* stores[2] = {store_.get(), other.get()};
  for (int round = 1; round <= 10; ++round) {
    const NodeRecord read = MustRead(*store_, NodeId(1));
    const TimePoint expires_at = InAMinute();
    Result<ChallengeRedemption> outcomes[2] = {ChallengeRedemption::kReused,
                                               ChallengeRedemption::kReused};
    std::thread racers[2];
    for (int i = 0; i < 2; ++i) {
      racers[i] = std::thread([&, i] {
        outcomes[i] = stores[i]->RecordAnsweredRoutineUpdate(RoutineOf(read, round),
                                                             ChallengeNonce(round), expires_at);
      });
    }
    for (std::thread& racer : racers) racer.join();
    int valid = 0;
    for (const auto& outcome : outcomes) {
      ASSERT_TRUE(outcome.ok()) << outcome.error().ToString();
      if (*outcome == ChallengeRedemption::kValid) {
        ++valid;
      } else {
        EXPECT_EQ(*outcome, ChallengeRedemption::kReused) << "round " << round;
      }
    }
    EXPECT_EQ(valid, 1) << "round " << round;
    EXPECT_EQ(MustRead(*store_, NodeId(1)).version, read.version + 1) << "round " << round;
  }
}

}  // namespace
}  // namespace attest::service::test
