// Conformance (store_conformance.h): DrainLedgerOutbox over the store and a
// real ledger file: order, payloads, and exactly once across a crash
// between the ledger append and the outbox update, against entries forged
// with actor "verifier", and with two processes draining at once.
#include "tests/store/ledger_writer_conformance.h"

#include <thread>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/ledger/kinds.h"

namespace attest::service::test {
namespace {

namespace kinds = ledger::kinds;

TEST_P(LedgerWriterConformance, AppendsPendingEventsInOrderWithTheirOutboxIds) {
  MustCommit(StoreChange{
      .events = {MakeEvent(kinds::kNodeEnrolled, 1), MakeEvent(kinds::kCertIssued, 1)}});
  MustCommit(StoreChange{.events = {MakeEvent(kinds::kNodeTrusted, 1)}});
  EXPECT_EQ(Drain(), 3u);
  ASSERT_EQ(LedgerSize(), 3u);
  auto first = ledger_->Get(1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->content.kind, kinds::kNodeEnrolled);
  EXPECT_EQ(first->content.actor, "verifier");
  Json expected = MakeEvent(kinds::kNodeEnrolled, 1).payload;
  expected["outbox_id"] = 1;
  EXPECT_EQ(PayloadAt(1), expected);
  EXPECT_EQ(PayloadAt(3)["outbox_id"], 3);
  auto third = ledger_->Get(3);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->content.kind, kinds::kNodeTrusted);

  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  EXPECT_EQ(Drain(), 0u) << "a second drain finds nothing";
  EXPECT_EQ(LedgerSize(), 3u);
}

TEST_P(LedgerWriterConformance, ACrashAfterTheAppendBeforeTheMarkAppendsNothingTwice) {
  MustCommit(StoreChange{
      .events = {MakeEvent(kinds::kNodeEnrolled, 1), MakeEvent(kinds::kNodeApproved, 1)}});
  // The crash: the ledger has both entries, the outbox still lists them.
  CrashAfterAppend();
  ASSERT_EQ(LedgerSize(), 2u);
  MustCommit(StoreChange{.events = {MakeEvent(kinds::kCertIssued, 1)}});  // id 3

  store_ = Connect();  // as after the restart
  EXPECT_EQ(Drain(), 1u);
  ASSERT_EQ(LedgerSize(), 3u);
  EXPECT_EQ(PayloadAt(3)["outbox_id"], 3);
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  auto intent = store_->GetLedgerDrainIntent();
  ASSERT_TRUE(intent.ok());
  EXPECT_FALSE(intent->has_value()) << "the mark clears the intent";
  EXPECT_EQ(OutboxIdCounts(), (std::map<std::int64_t, int>{{1, 1}, {2, 1}, {3, 1}}));
}

TEST_P(LedgerWriterConformance, EntriesOthersAppendedAfterTheCrashDoNotHideOurs) {
  MustCommit(StoreChange{
      .events = {MakeEvent(kinds::kNodeEnrolled, 1), MakeEvent(kinds::kNodeTrusted, 1)}});
  // The drain recorded its intent, appended event 1 (only: as if the
  // ledger had kept half) and crashed; then the signer appended.
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  ASSERT_TRUE(store_->RecordLedgerDrainIntent({2, 0}).ok());
  AppendAsTheWriter((*pending)[0]);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(ledger_
                    ->Append(ledger::NewEntry{std::string(kinds::kArtifactRevoked), "signer",
                                              R"({"outbox_id":99})", std::nullopt})
                    .ok());
  }
  EXPECT_EQ(Drain(), 1u) << "event 1 is in the ledger already; event 2 is not";
  ASSERT_EQ(LedgerSize(), 5u);
  EXPECT_EQ(PayloadAt(5)["outbox_id"], 2);
  int enrolled = 0;
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    auto entry = ledger_->Get(seq);
    ASSERT_TRUE(entry.ok());
    enrolled += entry->content.kind == kinds::kNodeEnrolled ? 1 : 0;
  }
  EXPECT_EQ(enrolled, 1) << "no duplicate ledger entry";
}

TEST_P(LedgerWriterConformance, ConcurrentDrainsAppendEachEventOnce) {
  constexpr int kEvents = 40;
  std::vector<std::thread> committers;
  for (int t = 0; t < 2; ++t) {
    committers.emplace_back([&, t] {
      for (int i = 0; i < kEvents / 2; ++i) {
        EXPECT_TRUE(
            store_->Commit(StoreChange{.events = {MakeEvent(kinds::kNodeTrusted, t * 100 + i)}})
                .ok());
      }
    });
  }
  for (std::thread& thread : committers) thread.join();
  // Each drainer uses its own Ledger connection, as threads of one process would.
  std::vector<std::thread> drainers;
  std::atomic<std::size_t> appended{0};
  for (int t = 0; t < 3; ++t) {
    drainers.emplace_back([&] {
      auto ledger = ledger::Ledger::Open(dir_.File("ledger.db"));
      ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
      auto drained = DrainLedgerOutbox(*store_, *ledger);
      ASSERT_TRUE(drained.ok()) << drained.error().ToString();
      appended += *drained;
    });
  }
  for (std::thread& thread : drainers) thread.join();
  EXPECT_EQ(appended.load(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(LedgerSize(), static_cast<std::uint64_t>(kEvents));
}

// `ledger append --actor verifier` can write what it likes: an entry
// claiming a high outbox id, or an outbox id of an event still pending with
// other content, must not make the drain skip anything.
TEST_P(LedgerWriterConformance, ForgedVerifierEntriesNeverMakeEventsSkipped) {
  ASSERT_TRUE(ledger_
                  ->Append(ledger::NewEntry{std::string(kinds::kNodeRevoked), "verifier",
                                            R"({"outbox_id":1000000})", std::nullopt})
                  .ok());
  ASSERT_TRUE(ledger_
                  ->Append(ledger::NewEntry{std::string(kinds::kNodeTrusted), "verifier",
                                            R"({"n":7,"outbox_id":1})", std::nullopt})
                  .ok());
  MustCommit(StoreChange{
      .events = {MakeEvent(kinds::kNodeEnrolled, 1), MakeEvent(kinds::kNodeTrusted, 1)}});
  EXPECT_EQ(Drain(), 2u) << "events were skipped for forged entries";
  ASSERT_EQ(LedgerSize(), 4u);
  EXPECT_EQ(PayloadAt(3)["outbox_id"], 1);
  EXPECT_EQ(PayloadAt(4)["outbox_id"], 2);

  // The same forgeries in the window of a crash: after the recorded size,
  // only an event's exact entry counts as written.
  MustCommit(StoreChange{.events = {MakeEvent(kinds::kCertIssued, 2)}});  // id 3
  ASSERT_TRUE(store_->RecordLedgerDrainIntent({3, LedgerSize()}).ok());
  ASSERT_TRUE(ledger_
                  ->Append(ledger::NewEntry{std::string(kinds::kCertIssued), "verifier",
                                            R"({"outbox_id":3})", std::nullopt})
                  .ok());
  EXPECT_EQ(Drain(), 1u);
  EXPECT_EQ(PayloadAt(6)["outbox_id"], 3);
  EXPECT_EQ(PayloadAt(6)["node_id"], NodeId(2));
}

// The service and the CLI are two processes draining one outbox: the store's
// drain lock makes them take turns, so each event is appended once.
TEST_P(LedgerWriterConformance, TwoProcessesDrainingAtOnceAppendEachEventOnce) {
  constexpr int kEvents = 120;
  constexpr int kDrainers = 2;
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  // Fork with no other thread running in this process (a store has its WAL
  // checkpointer): a thread holding one of SQLite's global locks at the
  // fork would leave it locked forever in the children.
  store_.reset();
  std::vector<pid_t> children;
  for (int c = 0; c < kDrainers; ++c) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child: its own connections; drains until told to stop.
      close(go[1]);
      auto store = backend_->Connect();
      auto ledger = ledger::Ledger::Open(dir_.File("ledger.db"));
      if (!store.ok() || !ledger.ok()) _exit(2);
      bool running = true;
      while (running) {
        pollfd stop{go[0], POLLIN, 0};
        running = poll(&stop, 1, 0) == 0;  // the parent closes its end to stop us
        if (!DrainLedgerOutbox(**store, *ledger).ok()) _exit(3);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  close(go[0]);
  store_ = Connect();
  ASSERT_TRUE(store_);
  for (int i = 0; i < kEvents; ++i) {
    MustCommit(StoreChange{.events = {MakeEvent(kinds::kNodeTrusted, i)}});
  }
  close(go[1]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "drainer failed: " << status;
  }
  Drain();  // what the children left, if anything
  std::map<std::int64_t, int> counts = OutboxIdCounts();
  EXPECT_EQ(counts.size(), static_cast<std::size_t>(kEvents));
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "outbox id " << id;
  EXPECT_EQ(LedgerSize(), static_cast<std::uint64_t>(kEvents));
}

}  // namespace
}  // namespace attest::service::test
