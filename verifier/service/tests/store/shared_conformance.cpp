// Conformance (store_conformance.h): several stores on one database, as
// several verifier processes are. Each sees the others' commits at once,
// the version compare-and-set holds across them, CRL numbers and outbox ids
// stay unique, and the ledger drain's intent is one record for all.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "attest/ledger/kinds.h"

#include "tests/store/store_conformance.h"

namespace attest::service::test {
namespace {

TEST_P(ServiceStoreConformance, AStaleVersionIsBusyAcrossStores) {
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_NE(other, nullptr);
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord read_here = MustRead(*store_, NodeId(1));
  NodeRecord read_there = MustRead(*other, NodeId(1));
  ASSERT_EQ(read_there.version, 1) << "the other store sees the commit at once";

  read_there.state = NodeState::kUntrusted;
  auto won = other->Commit(StoreChange{.node = read_there});
  ASSERT_TRUE(won.ok()) << won.error().ToString();
  read_here.hostname = "lost-update";
  auto lost = store_->Commit(StoreChange{.node = read_here});
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kBusy);
  Status routine = store_->RecordRoutineUpdate(RoutineOf(MustRead(*store_, NodeId(1)), 1));
  EXPECT_TRUE(routine.ok()) << "read after the other's commit: " << routine.error().ToString();
  Status stale = other->RecordRoutineUpdate(RoutineOf(read_there, 2));  // still version 1
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kBusy);

  NodeRecord final_read = MustRead(*other, NodeId(1));
  EXPECT_EQ(final_read.state, NodeState::kUntrusted);
  EXPECT_EQ(final_read.hostname, MakeNode(1).hostname);
  EXPECT_EQ(final_read.version, 3);
}

// Two verifiers enrolling the same node at once: one insert wins.
TEST_P(ServiceStoreConformance, ANewNodeCommittedByTwoStoresAtOnceIsInsertedOnce) {
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_NE(other, nullptr);
  for (int n = 0; n < 10; ++n) {
    std::atomic<int> won{0};
    std::atomic<int> busy{0};
    std::vector<std::thread> threads;
    for (ServiceStore* store : {store_.get(), other.get()}) {
      threads.emplace_back([&, store] {
        auto result = store->Commit(StoreChange{
            .node = MakeNode(n), .events = {MakeEvent(ledger::kinds::kNodeEnrolled, n)}});
        if (result.ok()) {
          ++won;
        } else if (result.error().code == ErrorCode::kBusy ||
                   result.error().code == ErrorCode::kAlreadyExists) {
          ++busy;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(won.load(), 1) << "node " << n;
    EXPECT_EQ(busy.load(), 1) << "node " << n;
  }
  auto pending = store_->PendingLedgerEvents(100);
  ASSERT_TRUE(pending.ok()) << pending.error().ToString();
  EXPECT_EQ(pending->size(), 10u) << "one enrollment event per node";
}

TEST_P(ServiceStoreConformance, CrlNumbersAreUniqueAcrossStoresAtOnce) {
  constexpr int kStores = 3;
  constexpr int kThreadsPerStore = 2;
  constexpr int kEach = 10;
  std::vector<std::unique_ptr<ServiceStore>> stores;
  for (int s = 0; s < kStores; ++s) {
    stores.push_back(Connect());
    ASSERT_NE(stores.back(), nullptr);
  }
  std::mutex mutex;
  std::vector<std::uint64_t> numbers;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kStores * kThreadsPerStore; ++t) {
    threads.emplace_back([&, t] {
      ServiceStore& store = *stores[static_cast<std::size_t>(t % kStores)];
      for (int i = 0; i < kEach; ++i) {
        auto number = store.NextCrlNumber();
        if (!number.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mutex);
        numbers.push_back(*number);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  std::sort(numbers.begin(), numbers.end());
  std::vector<std::uint64_t> expected(static_cast<std::size_t>(kStores * kThreadsPerStore * kEach));
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
  EXPECT_EQ(numbers, expected) << "each number handed out once, none skipped";
}

TEST_P(ServiceStoreConformance, CommitsFromTwoStoresAtOnceAllLandWithDistinctOutboxIds) {
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_NE(other, nullptr);
  constexpr int kPerStore = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  int s = 0;
  for (ServiceStore* store : {store_.get(), other.get()}) {
    threads.emplace_back([&, store, s] {
      for (int i = 0; i < kPerStore; ++i) {
        const int n = s * 1000 + i;
        auto result = store->Commit(StoreChange{
            .node = MakeNode(n), .events = {MakeEvent(ledger::kinds::kNodeEnrolled, n)}});
        if (!result.ok()) ++failures;
      }
    });
    ++s;
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto nodes = other->ListNodes(std::nullopt, "", 1000);
  ASSERT_TRUE(nodes.ok()) << nodes.error().ToString();
  EXPECT_EQ(nodes->size(), static_cast<std::size_t>(2 * kPerStore));
  auto pending = store_->PendingLedgerEvents(1000);
  ASSERT_TRUE(pending.ok()) << pending.error().ToString();
  ASSERT_EQ(pending->size(), static_cast<std::size_t>(2 * kPerStore));
  std::set<std::int64_t> ids;
  for (std::size_t i = 0; i < pending->size(); ++i) {
    ids.insert((*pending)[i].outbox_id);
    if (i > 0) {
      EXPECT_LT((*pending)[i - 1].outbox_id, (*pending)[i].outbox_id);
    }
  }
  EXPECT_EQ(ids.size(), pending->size());
}

TEST_P(ServiceStoreConformance, TheDrainIntentIsOneRecordClearedByTheMark) {
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_NE(other, nullptr);
  auto none = store_->GetLedgerDrainIntent();
  ASSERT_TRUE(none.ok()) << none.error().ToString();
  EXPECT_FALSE(none->has_value());

  MustCommit(StoreChange{.events = {MakeEvent(ledger::kinds::kNodeEnrolled, 1),
                                    MakeEvent(ledger::kinds::kNodeTrusted, 1)}});
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok() && pending->size() == 2u);
  ASSERT_TRUE(store_->RecordLedgerDrainIntent({(*pending)[0].outbox_id, 7}).ok());
  ASSERT_TRUE(store_->RecordLedgerDrainIntent({(*pending)[1].outbox_id, 9}).ok());  // replaces
  auto seen = other->GetLedgerDrainIntent();
  ASSERT_TRUE(seen.ok()) << seen.error().ToString();
  ASSERT_TRUE(seen->has_value()) << "recorded at one store, read at another";
  EXPECT_EQ((*seen)->last_outbox_id, (*pending)[1].outbox_id);
  EXPECT_EQ((*seen)->ledger_size_before, 9u);

  // A mark of the first event only (a drainer that lost its lock, marking
  // late) leaves the newer intent, which covers the second.
  ASSERT_TRUE(other->MarkLedgerEventsWritten((*pending)[0].outbox_id).ok());
  auto kept = store_->GetLedgerDrainIntent();
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(kept->has_value()) << "a mark clears no intent that covers a later event";
  EXPECT_EQ((*kept)->last_outbox_id, (*pending)[1].outbox_id);
  auto rest = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].outbox_id, (*pending)[1].outbox_id);

  ASSERT_TRUE(other->MarkLedgerEventsWritten((*pending)[1].outbox_id).ok());
  auto cleared = store_->GetLedgerDrainIntent();
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(cleared->has_value()) << "the mark removes the intent with its events";
  auto none_left = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(none_left.ok());
  EXPECT_TRUE(none_left->empty());
}

}  // namespace
}  // namespace attest::service::test
