// NodeRowCache's solo mode (src/store/postgres_internal.h) on a clock the
// test moves: when the PostgreSQL store may mint a challenge from the row
// it last knew, and which signs of another writer take that away. Each
// test's Alone stands for the sweeper's look of every second. The store
// over a real database: postgres_store_conformance_test.cpp.
#include <chrono>

#include <gtest/gtest.h>

#include "src/store/postgres_internal.h"
#include "tests/store/store_records.h"

namespace attest::service::test {
namespace {

using internal::NodeRowCache;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kSoloAfter{10'000};

class NodeRowCacheSoloTest : public ::testing::Test {
 protected:
  NodeRowCacheSoloTest() : cache_(std::size_t{1} << 20, kSoloAfter, opened_) {
    node_ = MakeNode(1);
    node_.version = 5;
    cache_.Put(node_, /*row_xmin=*/700, /*confirmed=*/false, At(milliseconds(1)));
  }

  NodeRowCache::Steady::time_point At(milliseconds since_opening) const {
    return opened_ + since_opening;
  }

  bool Cached(std::int64_t version) { return cache_.Stored(node_.node_id, version) != nullptr; }
  // Solo at `since_opening`, having just looked and found no other verifier.
  bool SoloAfterLooking(milliseconds since_opening) {
    cache_.Alone(At(since_opening));
    return cache_.Solo(At(since_opening));
  }

  const NodeRowCache::Steady::time_point opened_ = NodeRowCache::Steady::now();
  NodeRowCache cache_;
  NodeRecord node_;
};

TEST_F(NodeRowCacheSoloTest, NotSoloUntilTheQuietPeriodHasPassedSinceOpening) {
  EXPECT_FALSE(SoloAfterLooking(kSoloAfter - milliseconds(1)));
  EXPECT_FALSE(cache_.LastKnown(node_.node_id, At(kSoloAfter - milliseconds(1))).has_value());
  EXPECT_FALSE(cache_.ReadAt(node_.node_id, 5, 700).has_value()) << "a write of its own is no read";

  cache_.Alone(At(kSoloAfter));
  std::optional<NodeRecord> known = cache_.LastKnown(node_.node_id, At(kSoloAfter));
  ASSERT_TRUE(known.has_value());
  EXPECT_EQ(known->version, 5);
  EXPECT_EQ(known->row_token, 700) << "the commit is guarded by the xmin it was read at";
  // Now a read: the evidence answering this challenge is verified against it,
  // as long as no other write made that version.
  ASSERT_TRUE(cache_.ReadAt(node_.node_id, 5, 700).has_value());
  EXPECT_FALSE(cache_.ReadAt(node_.node_id, 5, 701).has_value());
  EXPECT_FALSE(cache_.LastKnown("not-cached", At(kSoloAfter)).has_value());
}

TEST_F(NodeRowCacheSoloTest, ANewerVersionWithNoWriteOfItsOwnUnderWayEndsSoloAndForgetsTheRow) {
  ASSERT_TRUE(SoloAfterLooking(seconds(20)));
  cache_.Observe(node_.node_id, 6, At(seconds(20)));
  EXPECT_FALSE(Cached(5));
  EXPECT_FALSE(SoloAfterLooking(seconds(20)));
  EXPECT_FALSE(SoloAfterLooking(seconds(20) + kSoloAfter - milliseconds(1)));
  EXPECT_TRUE(SoloAfterLooking(seconds(20) + kSoloAfter));
}

TEST_F(NodeRowCacheSoloTest, ANewerVersionSeenWhileItsOwnWriteIsUnderWayIsNoSign) {
  {
    NodeRowCache::WriteUnderWay under_way(cache_, node_.node_id);
    NodeRowCache::WriteUnderWay another(cache_, node_.node_id);
    cache_.Observe(node_.node_id, 6, At(seconds(20)));
  }
  EXPECT_TRUE(Cached(5));
  EXPECT_TRUE(SoloAfterLooking(seconds(20)));
  // Both writes ended: the same sight is now another writer's.
  cache_.Observe(node_.node_id, 6, At(seconds(21)));
  EXPECT_FALSE(Cached(5));
  EXPECT_FALSE(SoloAfterLooking(seconds(21)));
}

TEST_F(NodeRowCacheSoloTest, TheSameOrAnOlderVersionKeepsTheRowAndSolo) {
  cache_.Observe(node_.node_id, 5, At(seconds(20)));
  cache_.Observe(node_.node_id, 4, At(seconds(20)));
  cache_.Observe("not-cached", 9, At(seconds(20)));
  EXPECT_TRUE(Cached(5));
  EXPECT_TRUE(SoloAfterLooking(seconds(20)));
}

// A read that began before the store's own routine update ended returns
// the version before it: the cache keeps the newer row.
TEST_F(NodeRowCacheSoloTest, AnOlderReadDoesNotReplaceTheRowOfItsOwnLaterWrite) {
  NodeRecord routine = RoutineOf(node_, 1);
  routine.row_token = 700;
  cache_.PutRoutineUpdate(routine, 701, At(milliseconds(2)));
  ASSERT_TRUE(Cached(6));
  cache_.Put(node_, 700, true, At(milliseconds(3)));
  EXPECT_TRUE(Cached(6));
  EXPECT_FALSE(Cached(5));
  cache_.Alone(At(kSoloAfter));
  std::optional<NodeRecord> known = cache_.LastKnown(node_.node_id, At(kSoloAfter));
  ASSERT_TRUE(known.has_value());
  EXPECT_EQ(known->version, 6);
  EXPECT_EQ(known->row_token, 701);
  // The same version read again (a row rewritten by hand keeps it) replaces it.
  NodeRecord rewritten = *known;
  rewritten.hostname = "rewritten.example";
  cache_.Put(rewritten, 702, true, At(milliseconds(4)));
  EXPECT_EQ(cache_.LastKnown(node_.node_id, At(kSoloAfter))->hostname, "rewritten.example");
}

TEST_F(NodeRowCacheSoloTest, ACachedRowGoneEndsSoloButAnUnknownNodeDoesNot) {
  // Anyone may ask for a challenge for a node that never was.
  cache_.ObserveGone("never-enrolled", At(seconds(20)));
  EXPECT_TRUE(SoloAfterLooking(seconds(20)));
  cache_.ObserveGone(node_.node_id, At(seconds(20)));
  EXPECT_FALSE(Cached(5));
  EXPECT_FALSE(SoloAfterLooking(seconds(20)));
}

TEST_F(NodeRowCacheSoloTest, AFailedWriteOfItsOwnEndsSoloAndForgetsTheRow) {
  cache_.Distrust(node_.node_id, At(seconds(30)));
  EXPECT_FALSE(Cached(5));
  EXPECT_FALSE(SoloAfterLooking(seconds(30) + kSoloAfter - milliseconds(1)));
  EXPECT_TRUE(SoloAfterLooking(seconds(30) + kSoloAfter));
  // A sign from before a later one does not shorten it.
  cache_.Distrust(node_.node_id, At(seconds(25)));
  EXPECT_TRUE(cache_.Solo(At(seconds(30) + kSoloAfter)));
}

// Another verifier connected, or the database out of reach. The rows stay
// for GetNode's version check, and only a row the database confirmed after
// the sign is taken unasked again (another writer may have changed the
// others since).
TEST_F(NodeRowCacheSoloTest, EndSoloLastsTheQuietPeriodAndRowsMustBeConfirmedAgain) {
  cache_.Alone(At(seconds(39)));
  cache_.EndSolo(At(seconds(40)));
  EXPECT_TRUE(Cached(5));
  EXPECT_FALSE(cache_.Solo(At(seconds(40)))) << "the earlier look no longer stands";
  EXPECT_FALSE(SoloAfterLooking(seconds(40) + kSoloAfter / 2));
  ASSERT_TRUE(SoloAfterLooking(seconds(40) + kSoloAfter));
  EXPECT_FALSE(cache_.LastKnown(node_.node_id, At(seconds(40) + kSoloAfter)).has_value())
      << "confirmed before the sign";
  ASSERT_TRUE(cache_.Find(node_.node_id, 5, 700, true, At(seconds(45))).has_value());
  EXPECT_TRUE(cache_.LastKnown(node_.node_id, At(seconds(40) + kSoloAfter)).has_value());
}

// A read that began before this store's own commit of the row (whose xmin
// it does not know, so it forgets the row) cannot cache the older version.
TEST_F(NodeRowCacheSoloTest, AReadOlderThanItsOwnCommitIsNotCachedAfterIt) {
  cache_.ForgetBelow(node_.node_id, 7);
  EXPECT_FALSE(Cached(5));
  NodeRecord older = node_;
  older.version = 6;
  cache_.Put(older, 710, true, At(milliseconds(6)));
  EXPECT_FALSE(Cached(6));
  NodeRecord committed = node_;
  committed.version = 7;
  cache_.Put(committed, 720, true, At(milliseconds(7)));
  EXPECT_TRUE(Cached(7));
  older.version = 5;
  cache_.Forget(node_.node_id);
  cache_.Put(older, 700, true, At(milliseconds(8)));
  EXPECT_TRUE(Cached(5)) << "the mark went with the row it let in";
}

// The sweeper looks every second; a look stands kAloneFor, so a stalled
// sweeper ends solo by itself.
TEST_F(NodeRowCacheSoloTest, SoloOnlyWhileARecentLookFoundNoOtherVerifier) {
  EXPECT_FALSE(cache_.Solo(At(seconds(20)))) << "never looked";
  cache_.Alone(At(seconds(20)));
  EXPECT_TRUE(cache_.Solo(At(seconds(20))));
  EXPECT_TRUE(cache_.Solo(At(seconds(20) + NodeRowCache::kAloneFor)));
  EXPECT_FALSE(cache_.Solo(At(seconds(20) + NodeRowCache::kAloneFor + milliseconds(1))));
  EXPECT_FALSE(cache_.LastKnown(node_.node_id, At(seconds(24))).has_value());
}

// Nothing would correct a refusal made on a stale row (an approval by the
// CLI the solo store never saw): a row that would refuse is read again.
TEST_F(NodeRowCacheSoloTest, ARowThatWouldRefuseTheChallengeIsNeverTakenUnasked) {
  cache_.Alone(At(seconds(20)));
  for (NodeState state : {NodeState::kPendingApproval, NodeState::kRevoked}) {
    NodeRecord refusing = node_;
    refusing.state = state;
    cache_.Put(refusing, 700, true, At(milliseconds(5)));
    EXPECT_FALSE(cache_.LastKnown(node_.node_id, At(seconds(20))).has_value())
        << NodeStateName(state);
    EXPECT_TRUE(Cached(5)) << "kept for GetNode's version check";
  }
  for (NodeState state : {NodeState::kEnrolled, NodeState::kTrusted, NodeState::kUntrusted}) {
    NodeRecord attesting = node_;
    attesting.state = state;
    cache_.Put(attesting, 700, true, At(milliseconds(5)));
    EXPECT_TRUE(cache_.LastKnown(node_.node_id, At(seconds(20))).has_value())
        << NodeStateName(state);
  }
}

}  // namespace
}  // namespace attest::service::test
