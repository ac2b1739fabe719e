// Conformance (store_conformance.h): RecordRoutineUpdate writes a routine
// attestation's fields only (last_*, boot and runtime caches), visible at
// once, kept across a restart, guarded by version and state like Commit,
// and ordered with the durable Commits around it.
#include <chrono>

#include "attest/ledger/kinds.h"

#include "tests/store/store_conformance.h"

namespace attest::service::test {
namespace {

TEST_P(RoutineConformance, ReadersSeeTheUpdateAndTheVersionAdvances) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 1);
  ASSERT_EQ(routine.version, 1);
  MustRecord(routine);
  NodeRecord read = MustRead(NodeId(1));
  ExpectRoutineFields(read, routine);
  EXPECT_EQ(read.version, 2);
  EXPECT_EQ(read.state, NodeState::kTrusted);
}

TEST_P(RoutineConformance, OnlyTheRoutineFieldsAreWritten) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 1);
  routine.hostname = "someone-else.example";
  routine.ak_public = Bytes{0x00, 0x02, 0x07, 0x99};
  routine.reenroll_allowed_until = At(1'890'000'000);
  MustRecord(routine);
  NodeRecord read = MustRead(NodeId(1));
  ExpectRoutineFields(read, routine);
  const NodeRecord original = MakeNode(1);
  EXPECT_EQ(read.hostname, original.hostname);
  EXPECT_EQ(read.ak_public, original.ak_public);
  EXPECT_EQ(read.reenroll_allowed_until, original.reenroll_allowed_until);
}

TEST_P(RoutineConformance, ARuntimeCacheDroppedIsWrittenAsAllNull) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 1);
  routine.runtime_cache.reset();
  MustRecord(routine);
  EXPECT_FALSE(MustRead(NodeId(1)).runtime_cache.has_value());
}

TEST_P(RoutineConformance, AStaleVersionIsBusyAndWritesNothing) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord first = RoutineOf(MustRead(NodeId(1)), 1);
  MustRecord(first);
  Status stale = store_->RecordRoutineUpdate(RoutineOf(first, 2));  // still version 1
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kBusy);
  EXPECT_NE(stale.error().message.find("stored 2"), std::string::npos) << stale.error().message;
  NodeRecord read = MustRead(NodeId(1));
  ExpectRoutineFields(read, first);
  EXPECT_EQ(read.version, 2);
}

TEST_P(RoutineConformance, AStateChangeIsRefusedAndWritesNothing) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord untrusted = RoutineOf(MustRead(NodeId(1)), 1);
  untrusted.state = NodeState::kUntrusted;
  Status refused = store_->RecordRoutineUpdate(untrusted);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("stored trusted, given untrusted"), std::string::npos)
      << refused.error().message;
  NodeRecord read = MustRead(NodeId(1));
  EXPECT_EQ(read.state, NodeState::kTrusted);
  EXPECT_EQ(read.version, 1);
  EXPECT_EQ(read.last_clock, MakeNode(1).last_clock);
}

TEST_P(RoutineConformance, AnUnknownNodeIsNotFoundAndNotCreated) {
  Status missing = store_->RecordRoutineUpdate(RoutineOf(MakeNode(3), 1));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto read = store_->GetNode(NodeId(3));
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value());
}

TEST_P(RoutineConformance, AMalformedFieldIsRefusedNamingIt) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 1);
  routine.boot_cache->boot_log_digest = Bytes(31, 0x01);
  Status refused = store_->RecordRoutineUpdate(routine);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("boot_cache.boot_log_digest"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(MustRead(NodeId(1)).version, 1);
}

TEST_P(RoutineConformance, UpdatesSurviveACleanRestart) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord node = MustRead(NodeId(1));
  for (int round = 1; round <= 50; ++round) {
    node = RoutineOf(node, round);
    MustRecord(node);
    ++node.version;
    node.row_token = 0;  // the record as written, not as read: no row token to require
  }
  store_.reset();
  store_ = Connect();
  ASSERT_NE(store_, nullptr);
  NodeRecord read = MustRead(NodeId(1));
  ExpectRoutineFields(read, node);
  EXPECT_EQ(read.version, 51);
}

TEST_P(RoutineConformance, AStateChangeAfterRoutineUpdatesWins) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord before = MustRead(NodeId(1));
  NodeRecord node = before;
  for (int round = 1; round <= 3; ++round) {
    node = RoutineOf(node, round);
    MustRecord(node);
    ++node.version;
    node.row_token = 0;  // the record as written, not as read: no row token to require
  }
  // A Commit built on the node as read before the routine updates would
  // overwrite them: it is refused as stale.
  NodeRecord stale = before;
  stale.state = NodeState::kUntrusted;
  auto refused = store_->Commit(StoreChange{.node = stale});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBusy);

  NodeRecord untrusted = MustRead(NodeId(1));
  untrusted.state = NodeState::kUntrusted;
  untrusted.boot_cache.reset();
  MustCommit(
      StoreChange{.node = untrusted, .events = {MakeEvent(ledger::kinds::kNodeUntrusted, 1)}});
  // The routine update of a request that read the node before the change
  // cannot undo it, nor can one that claims the node is still trusted.
  Status late = store_->RecordRoutineUpdate(RoutineOf(node, 4));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kBusy);
  NodeRecord current = MustRead(NodeId(1));
  NodeRecord claims_trusted = RoutineOf(current, 5);
  claims_trusted.state = NodeState::kTrusted;
  Status wrong_state = store_->RecordRoutineUpdate(claims_trusted);
  ASSERT_FALSE(wrong_state.ok());
  EXPECT_EQ(wrong_state.error().code, ErrorCode::kInvalidArgument);

  store_ = Connect();
  ASSERT_NE(store_, nullptr);
  NodeRecord read = MustRead(NodeId(1));
  EXPECT_EQ(read.state, NodeState::kUntrusted);
  EXPECT_FALSE(read.boot_cache.has_value());
  EXPECT_EQ(read.last_clock, node.last_clock) << "the routine clock the state change carried";
  EXPECT_EQ(read.version, 5);
}

// A routine update of one node followed by a durable Commit of another:
// after a restart both are there, and the Commit's ledger event with them.
TEST_P(RoutineConformance, ARoutineUpdateIsKeptWithTheCommitAfterIt) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 1);
  MustRecord(routine);
  MustCommit(
      StoreChange{.node = MakeNode(2), .events = {MakeEvent(ledger::kinds::kNodeEnrolled, 2)}});
  MustRecord(RoutineOf(MustRead(NodeId(2)), 2));
  store_ = Connect();
  ASSERT_NE(store_, nullptr);
  ExpectRoutineFields(MustRead(NodeId(1)), routine);
  EXPECT_EQ(MustRead(NodeId(2)).version, 2);
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok()) << pending.error().ToString();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].event.kind, ledger::kinds::kNodeEnrolled);
}

}  // namespace
}  // namespace attest::service::test
