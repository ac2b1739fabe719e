// DrainLedgerOutbox against a real ledger file: order, payloads, and
// exactly once across a crash between the ledger append and the outbox
// update.
#include "attest/service/ledger_writer.h"

#include <thread>

#include "attest/ed25519.h"
#include "attest/ledger/kinds.h"
#include "attest/ledger/ledger.h"

#include "tests/store/store_test_util.h"

namespace attest::service::test {
namespace {

namespace kinds = ledger::kinds;

class LedgerWriterTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok());
    auto created =
        ledger::Ledger::Create(dir_.File("ledger.db"), "verifier.test/ledger", key->public_key());
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    ledger_.emplace(std::move(created).value());
  }

  std::uint64_t LedgerSize() {
    auto size = ledger_->Size();
    EXPECT_TRUE(size.ok());
    return size.ok() ? *size : 0;
  }

  Json PayloadAt(std::uint64_t seq) {
    auto entry = ledger_->Get(seq);
    EXPECT_TRUE(entry.ok()) << entry.error().ToString();
    if (!entry.ok()) return Json();
    auto payload = ParseJsonStrict(entry->content.payload);
    EXPECT_TRUE(payload.ok());
    return payload.ok() ? *payload : Json();
  }

  std::size_t Drain() {
    auto drained = DrainLedgerOutbox(*store_, *ledger_);
    EXPECT_TRUE(drained.ok()) << drained.error().ToString();
    return drained.ok() ? *drained : 0;
  }

  std::optional<ledger::Ledger> ledger_;
};

TEST_F(LedgerWriterTest, AppendsPendingEventsInOrderWithTheirOutboxIds) {
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

TEST_F(LedgerWriterTest, ACrashAfterTheAppendBeforeTheMarkAppendsNothingTwice) {
  MustCommit(StoreChange{
      .events = {MakeEvent(kinds::kNodeEnrolled, 1), MakeEvent(kinds::kNodeApproved, 1)}});
  ASSERT_EQ(Drain(), 2u);
  // The crash: the ledger has both entries, the outbox still lists them.
  ExecuteSql(path_,
             "INSERT INTO ledger_outbox(outbox_id, kind, payload, recorded_at) VALUES "
             "(1, 'node.enrolled', '{\"n\":1}', 0), (2, 'node.approved', '{\"n\":1}', 0)");
  MustCommit(StoreChange{.events = {MakeEvent(kinds::kCertIssued, 1)}});  // id 3

  store_ = Open();  // as after the restart
  EXPECT_EQ(Drain(), 1u);
  ASSERT_EQ(LedgerSize(), 3u);
  EXPECT_EQ(PayloadAt(3)["outbox_id"], 3);
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
}

TEST_F(LedgerWriterTest, EntriesOthersAppendedAfterTheCrashDoNotHideOurs) {
  MustCommit(StoreChange{
      .events = {MakeEvent(kinds::kNodeEnrolled, 1), MakeEvent(kinds::kNodeTrusted, 1)}});
  // The drain appended event 1 and crashed; then the signer appended.
  ASSERT_TRUE(ledger_
                  ->Append(ledger::NewEntry{
                      std::string(kinds::kNodeEnrolled), "verifier",
                      R"({"n":1,"node_id":")" + NodeId(1) + R"(","outbox_id":1})", std::nullopt})
                  .ok());
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

TEST_F(LedgerWriterTest, ConcurrentDrainsAppendEachEventOnce) {
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

}  // namespace
}  // namespace attest::service::test
