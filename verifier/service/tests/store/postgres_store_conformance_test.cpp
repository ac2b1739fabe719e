// The ServiceStore conformance suites over the PostgreSQL store, on a fresh
// database per test of the binary's private cluster (pg/testing); Connect
// opens another store on it, as another verifier process would.
#include <chrono>
#include <optional>
#include <thread>

#include "attest/ledger/kinds.h"
#include "attest/pg/test_cluster.h"
#include "attest/service/postgres_store.h"

#include "tests/store/ledger_writer_conformance.h"
#include "tests/store/store_conformance.h"
#include "tests/store/store_records.h"

namespace attest::service::test {
namespace {

class PostgresBackend final : public ServiceStoreBackend {
 public:
  Result<std::unique_ptr<ServiceStore>> Create() override {
    if (!database_.ok()) return MakeError(ErrorCode::kIo, database_.error());
    return OpenPostgresServiceStore(database_.url(), true);
  }
  Result<std::unique_ptr<ServiceStore>> Connect() override {
    return OpenPostgresServiceStore(database_.url(), false);
  }

 private:
  pg::test::TestDatabase database_;
};

const ServiceStoreBackendFactory kPostgres{"Postgres",
                                           [] { return std::make_unique<PostgresBackend>(); }};

INSTANTIATE_TEST_SUITE_P(Postgres, ServiceStoreConformance, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, RoutineConformance, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, ChallengeConformance, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, LedgerWriterConformance, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);

// PostgreSQL's drain lock is tried, never waited for: a verifier (or anyone
// who can connect) holding it must not stall another's commits; the holder
// drains, and the events wait for it or the next drain.
class PostgresDrainLockTest : public LedgerWriterConformance {};

TEST_P(PostgresDrainLockTest, ADrainFindingTheLockHeldLeavesTheEventsAndReturnsAtOnce) {
  MustCommit(StoreChange{.events = {MakeEvent(ledger::kinds::kNodeTrusted, 1)}});
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_TRUE(other);
  auto held = other->LockLedgerDrain();
  ASSERT_TRUE(held.ok()) << held.error().ToString();
  ASSERT_TRUE(*held) << "nobody held it";
  EXPECT_TRUE((*held)->CheckHeld().ok());

  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(Drain(), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << "it waited";
  EXPECT_EQ(LedgerSize(), 0u);
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 1u);

  held->reset();  // released: the next drain takes it
  EXPECT_EQ(Drain(), 1u);
  EXPECT_EQ(LedgerSize(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresDrainLockTest, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);

// The store keeps the node rows it read or wrote and reads only a row's
// version and xmin while they match (NodeRowCache). Whatever else writes
// the row, by hand or through another store, the next GetNode reads it.
class PostgresNodeRowCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok()) << database_.error();
    auto store = OpenPostgresServiceStore(database_.url(), true);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    auto sql = pg::Connection::Open(database_.url());
    ASSERT_TRUE(sql.ok()) << sql.error().ToString();
    sql_.emplace(std::move(sql).value());
    node_ = MakeNode(1);
    ASSERT_TRUE(store_->Commit({.node = node_}).ok());
    node_ = MustRead(*store_, node_.node_id);  // cached now
  }

  std::string StoredText(const std::string& column) {
    auto read = sql_->Query("read", "SELECT " + column + " FROM nodes WHERE node_id = $1",
                            {pg::Param::Text(node_.node_id)});
    EXPECT_TRUE(read.ok()) << read.error().ToString();
    if (!read.ok() || read->rows() != 1) return "";
    auto text = read->Text(0, 0);
    return text.ok() ? std::string(*text) : "";
  }

  pg::test::TestDatabase database_;
  std::unique_ptr<ServiceStore> store_;
  std::optional<pg::Connection> sql_;
  NodeRecord node_;
};

TEST_F(PostgresNodeRowCacheTest, ARowEditedByHandWithoutAVersionIsReadAsStored) {
  ASSERT_TRUE(sql_->Execute("edit",
                            "UPDATE nodes SET hostname = 'edited.example', "
                            "boot_state = '{\"edited\":1}' WHERE node_id = $1",
                            {pg::Param::Text(node_.node_id)})
                  .ok());
  NodeRecord read = MustRead(*store_, node_.node_id);
  EXPECT_EQ(read.version, node_.version) << "the edit left the version";
  EXPECT_EQ(read.hostname, "edited.example");
  ASSERT_TRUE(read.boot_cache.has_value());
  EXPECT_EQ(read.boot_cache->verified_state_json, "{\"edited\":1}");
}

// GetNodeAsRead stands the row a GetNode read at a version in for a new
// read: what a challenge told the node, for the evidence answering it.
// Another version, or a row only this store wrote, is read.
TEST_F(PostgresNodeRowCacheTest, TheRowReadAtAVersionStandsInForAnotherRead) {
  ASSERT_TRUE(sql_->Execute("edit",
                            "UPDATE nodes SET hostname = 'edited.example' "
                            "WHERE node_id = $1",
                            {pg::Param::Text(node_.node_id)})
                  .ok());
  auto as_read = store_->GetNodeAsRead(node_.node_id, node_.version, node_.row_token);
  ASSERT_TRUE(as_read.ok() && as_read->has_value());
  EXPECT_EQ((*as_read)->hostname, node_.hostname) << "SetUp's read of this version";
  auto other_version = store_->GetNodeAsRead(node_.node_id, node_.version + 7, node_.row_token);
  ASSERT_TRUE(other_version.ok() && other_version->has_value());
  EXPECT_EQ((*other_version)->hostname, "edited.example");

  // The store's own write is no read: the next call reads.
  NodeRecord routine = RoutineOf(**other_version, 1);
  ASSERT_TRUE(store_->RecordRoutineUpdate(routine).ok());
  ASSERT_TRUE(sql_->Execute("edit",
                            "UPDATE nodes SET hostname = 'edited-again.example' "
                            "WHERE node_id = $1",
                            {pg::Param::Text(node_.node_id)})
                  .ok());
  auto after_write = store_->GetNodeAsRead(node_.node_id, routine.version + 1, 0);
  ASSERT_TRUE(after_write.ok() && after_write->has_value());
  EXPECT_EQ((*after_write)->hostname, "edited-again.example");
  EXPECT_EQ((*after_write)->version, routine.version + 1);
}

// A commit lost to a crash or a failover lets the same version be written
// again with other contents. A record read before is refused at its write,
// whichever write, though a cached read still returns it.
TEST_F(PostgresNodeRowCacheTest, AVersionWrittenAgainIsNotTakenForTheOneRead) {
  // The same version, another write: what a lost commit and a later one
  // (an operator's revocation at another verifier) leave behind.
  ASSERT_TRUE(sql_->Execute("rewrite", "UPDATE nodes SET state = 'revoked' WHERE node_id = $1",
                            {pg::Param::Text(node_.node_id)})
                  .ok());
  auto as_read = store_->GetNodeAsRead(node_.node_id, node_.version, node_.row_token);
  ASSERT_TRUE(as_read.ok() && as_read->has_value());
  EXPECT_EQ((*as_read)->state, NodeState::kTrusted) << "the challenge's read, by design";
  EXPECT_EQ((*as_read)->row_token, node_.row_token);
  EXPECT_NE(node_.row_token, 0);

  NodeRecord routine = RoutineOf(**as_read, 1);
  Status routine_refused = store_->RecordRoutineUpdate(routine);
  ASSERT_FALSE(routine_refused.ok());
  EXPECT_EQ(routine_refused.error().code, ErrorCode::kBusy);
  EXPECT_NE(routine_refused.error().message.find("written again at version"), std::string::npos)
      << routine_refused.error().message;
  auto answered = store_->RecordAnsweredRoutineUpdate(
      routine, ChallengeNonce(1), std::chrono::system_clock::now() + std::chrono::minutes(1));
  ASSERT_FALSE(answered.ok());
  EXPECT_EQ(answered.error().code, ErrorCode::kBusy);

  NodeRecord committed = **as_read;
  committed.hostname = "un-revoked.example";
  auto commit_refused = store_->Commit({.node = committed});
  ASSERT_FALSE(commit_refused.ok());
  EXPECT_EQ(commit_refused.error().code, ErrorCode::kBusy);
  EXPECT_NE(commit_refused.error().message.find("written again at version"), std::string::npos)
      << commit_refused.error().message;

  NodeRecord read = MustRead(*store_, node_.node_id);
  EXPECT_EQ(read.state, NodeState::kRevoked);
  EXPECT_EQ(read.hostname, node_.hostname);
  EXPECT_EQ(read.version, node_.version);
  // The refused answered update left its nonce unredeemed.
  auto redeemed = store_->RedeemChallenge(
      node_.node_id, ChallengeNonce(1), std::chrono::system_clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(redeemed.ok());
  EXPECT_EQ(*redeemed, ChallengeRedemption::kValid);
}

// Should the database's clock step back after a prune, a pruned answer's
// nonce is still expired: the horizon only rises.
TEST_F(PostgresNodeRowCacheTest, ANonceBeforeThePruningHorizonIsExpiredWhateverTheClock) {
  const TimePoint in_a_minute = std::chrono::system_clock::now() + std::chrono::minutes(1);
  ASSERT_TRUE(store_->PruneChallenges(std::chrono::seconds(0)).ok());
  // As if that prune ran with the clock an hour ahead.
  ASSERT_TRUE(sql_->Execute("raise the horizon",
                            "UPDATE answered_challenges_horizon SET pruned_before = "
                            "(extract(epoch FROM now()) * 1000000)::bigint + 3600000000")
                  .ok());
  auto redeemed = store_->RedeemChallenge(node_.node_id, ChallengeNonce(1), in_a_minute);
  ASSERT_TRUE(redeemed.ok()) << redeemed.error().ToString();
  EXPECT_EQ(*redeemed, ChallengeRedemption::kExpired);
  auto answered =
      store_->RecordAnsweredRoutineUpdate(RoutineOf(node_, 1), ChallengeNonce(2), in_a_minute);
  ASSERT_TRUE(answered.ok()) << answered.error().ToString();
  EXPECT_EQ(*answered, ChallengeRedemption::kExpired);
  EXPECT_EQ(MustRead(*store_, node_.node_id).version, node_.version) << "nothing recorded";
  // A later prune with the clock back where it is does not lower it.
  ASSERT_TRUE(store_->PruneChallenges(std::chrono::seconds(0)).ok());
  redeemed = store_->RedeemChallenge(node_.node_id, ChallengeNonce(3), in_a_minute);
  ASSERT_TRUE(redeemed.ok());
  EXPECT_EQ(*redeemed, ChallengeRedemption::kExpired);
}

TEST_F(PostgresNodeRowCacheTest, ADeletedRowIsGoneAndARecreatedOneIsReadAfresh) {
  ASSERT_TRUE(sql_->Execute("delete", "DELETE FROM nodes WHERE node_id = $1",
                            {pg::Param::Text(node_.node_id)})
                  .ok());
  auto gone = store_->GetNode(node_.node_id);
  ASSERT_TRUE(gone.ok()) << gone.error().ToString();
  EXPECT_FALSE(gone->has_value());
  // The same id at the same version, with other contents.
  NodeRecord again = MakeNode(1);
  again.hostname = "recreated.example";
  ASSERT_TRUE(store_->Commit({.node = again}).ok());
  NodeRecord read = MustRead(*store_, node_.node_id);
  EXPECT_EQ(read.version, node_.version);
  EXPECT_EQ(read.hostname, "recreated.example");
}

TEST_F(PostgresNodeRowCacheTest, AnotherStoresRoutineUpdateIsReadAfresh) {
  auto other = OpenPostgresServiceStore(database_.url(), false);
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  NodeRecord theirs = RoutineOf(MustRead(**other, node_.node_id), 1);
  ASSERT_TRUE((*other)->RecordRoutineUpdate(theirs).ok());
  NodeRecord read = MustRead(*store_, node_.node_id);
  EXPECT_EQ(read.version, node_.version + 1);
  ExpectRoutineFields(read, theirs);
}

// An unchanged cached state is not sent again, a changed one is written,
// and the row the store caches after its own update is the stored one
// (non-routine fields from the database's row, not the caller's record).
TEST_F(PostgresNodeRowCacheTest, OwnRoutineUpdatesKeepOrWriteTheStatesAndCacheTheStoredRow) {
  NodeRecord first = RoutineOf(node_, 1);
  first.hostname = "not-written.example";  // a routine update never writes it
  ASSERT_TRUE(store_->RecordRoutineUpdate(first).ok());
  EXPECT_EQ(StoredText("boot_state"), first.boot_cache->verified_state_json);
  NodeRecord read = MustRead(*store_, node_.node_id);
  EXPECT_EQ(read.hostname, node_.hostname);
  ExpectRoutineFields(read, first);

  NodeRecord same_states = read;
  same_states.last_verdict_json = R"({"trusted":true,"round":"same states"})";
  ASSERT_TRUE(store_->RecordRoutineUpdate(same_states).ok());
  EXPECT_EQ(StoredText("boot_state"), first.boot_cache->verified_state_json);
  EXPECT_EQ(StoredText("runtime_state"), first.runtime_cache->verified_state_json);
  EXPECT_EQ(StoredText("last_verdict"), same_states.last_verdict_json);

  NodeRecord changed = RoutineOf(MustRead(*store_, node_.node_id), 2);
  ASSERT_TRUE(store_->RecordRoutineUpdate(changed).ok());
  EXPECT_EQ(StoredText("boot_state"), changed.boot_cache->verified_state_json);
  EXPECT_EQ(StoredText("runtime_state"), changed.runtime_cache->verified_state_json);
  NodeRecord dropped = MustRead(*store_, node_.node_id);
  dropped.runtime_cache.reset();
  ASSERT_TRUE(store_->RecordRoutineUpdate(dropped).ok());
  EXPECT_EQ(StoredText("(runtime_state IS NULL)::text"), "true");
  EXPECT_FALSE(MustRead(*store_, node_.node_id).runtime_cache.has_value());
}

// Solo mode (postgres_store.h): a store that knows itself the only verifier
// and has seen no other writer mints a challenge from the row it last knew,
// without asking. `solo_` has no quiet period, so it is solo from its first
// look for other verifiers; store_ has the default and never looks (as the
// CLI's store: a writer the solo store cannot see).
class PostgresSoloStoreTest : public PostgresNodeRowCacheTest {
 protected:
  void SetUp() override {
    PostgresNodeRowCacheTest::SetUp();
    auto solo = OpenPostgresServiceStore(database_.url(), false, kPostgresServiceConnections,
                                         std::chrono::milliseconds(0));
    ASSERT_TRUE(solo.ok()) << solo.error().ToString();
    solo_ = std::move(solo).value();
    MustRead(*solo_, node_.node_id);  // cached
    ASSERT_EQ(Look(*solo_), 0u);
  }

  // Verifiers holding a presence lock (class "AVPR").
  std::int64_t PresenceHolders() {
    auto holders = sql_->Query("presence",
                               "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                               "AND classid = 1096175698 AND objsubid = 2 AND granted");
    EXPECT_TRUE(holders.ok()) << holders.error().ToString();
    if (!holders.ok()) return -1;
    auto count = holders->Int64(0, 0);
    return count.ok() ? *count : -1;
  }

  // The other verifiers `store` sees, after announcing itself.
  static std::size_t Look(ServiceStore& store) {
    Result<std::size_t> others = store.LookForOtherVerifiers();
    EXPECT_TRUE(others.ok()) << others.error().ToString();
    return others.ok() ? *others : 999;
  }

  void EditHostname(const std::string& hostname) {
    ASSERT_TRUE(sql_->Execute("edit", "UPDATE nodes SET hostname = $2 WHERE node_id = $1",
                              {pg::Param::Text(node_.node_id), pg::Param::Text(hostname)})
                    .ok());
  }

  NodeRecord ForChallenge(ServiceStore& store) {
    auto read = store.GetNodeForChallenge(node_.node_id);
    EXPECT_TRUE(read.ok()) << read.error().ToString();
    if (!read.ok() || !read->has_value()) {
      ADD_FAILURE() << "no node";
      return {};
    }
    return **read;
  }

  std::unique_ptr<ServiceStore> solo_;
};

TEST_F(PostgresSoloStoreTest, WithinItsQuietPeriodAChallengeReadsTheDatabase) {
  solo_.reset();
  auto quiet = OpenPostgresServiceStore(database_.url(), false);  // the default 10 s
  ASSERT_TRUE(quiet.ok()) << quiet.error().ToString();
  MustRead(**quiet, node_.node_id);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Look(**quiet) != 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // solo_'s session ending
  }
  ASSERT_EQ(Look(**quiet), 0u) << "alone";
  EditHostname("edited.example");
  EXPECT_EQ(ForChallenge(**quiet).hostname, "edited.example") << "asked: not 10 s yet";
}

TEST_F(PostgresSoloStoreTest, ASoloStoreMintsFromTheRowItLastKnewWithoutAsking) {
  EditHostname("edited.example");
  EXPECT_EQ(ForChallenge(*solo_).hostname, node_.hostname) << "it did not ask";
  EXPECT_EQ(MustRead(*solo_, node_.node_id).hostname, "edited.example") << "GetNode always asks";
  EXPECT_EQ(ForChallenge(*solo_).hostname, "edited.example") << "and caches what it read";
}

// Another writer's update: the stale row's answer is refused whole (its
// nonce unspent), and the next challenge reads the row as it is.
TEST_F(PostgresSoloStoreTest, AStaleRowIsRefusedAtTheAnswerAndTheNextChallengeReadsAfresh) {
  NodeRecord theirs = RoutineOf(node_, 1);
  ASSERT_TRUE(store_->RecordRoutineUpdate(theirs).ok());
  NodeRecord stale = ForChallenge(*solo_);
  EXPECT_EQ(stale.version, node_.version) << "solo: it did not ask";

  const TimePoint expiry = std::chrono::system_clock::now() + std::chrono::minutes(1);
  auto answered =
      solo_->RecordAnsweredRoutineUpdate(RoutineOf(stale, 2), ChallengeNonce(1), expiry);
  ASSERT_FALSE(answered.ok());
  EXPECT_EQ(answered.error().code, ErrorCode::kBusy) << answered.error().ToString();
  NodeRecord stored = MustRead(*store_, node_.node_id);
  EXPECT_EQ(stored.version, node_.version + 1);
  ExpectRoutineFields(stored, theirs);
  auto redeemed = store_->RedeemChallenge(node_.node_id, ChallengeNonce(1), expiry);
  ASSERT_TRUE(redeemed.ok()) << redeemed.error().ToString();
  EXPECT_EQ(*redeemed, ChallengeRedemption::kValid) << "the refused answer spent no nonce";

  NodeRecord fresh = ForChallenge(*solo_);
  EXPECT_EQ(fresh.version, node_.version + 1);
  ExpectRoutineFields(fresh, theirs);
}

// The verifier's refresh of the trusted nodes (every few seconds) is how a
// solo store hears of another writer before a challenge would go stale.
TEST_F(PostgresSoloStoreTest, TheTrustedNodesRefreshForgetsARowAnotherWriterChanged) {
  NodeRecord theirs = RoutineOf(node_, 1);
  ASSERT_TRUE(store_->RecordRoutineUpdate(theirs).ok());
  auto trusted = solo_->ListTrustedNodes("", 100);
  ASSERT_TRUE(trusted.ok()) << trusted.error().ToString();
  ASSERT_EQ(trusted->size(), 1u);
  EXPECT_EQ((*trusted)[0].version, node_.version + 1);
  NodeRecord fresh = ForChallenge(*solo_);
  EXPECT_EQ(fresh.version, node_.version + 1);
  ExpectRoutineFields(fresh, theirs);
}

// Every serving verifier holds the presence lock on a session of its own;
// while another holds it, the store asks for every challenge, and once that
// verifier is gone (its session ends with it) it is solo again.
TEST_F(PostgresSoloStoreTest, AnotherServingVerifierEndsSoloUntilItLeaves) {
  EditHostname("edited-1.example");
  EXPECT_EQ(ForChallenge(*solo_).hostname, node_.hostname) << "solo";
  auto other = OpenPostgresServiceStore(database_.url(), false);
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  EXPECT_EQ(Look(**other), 1u);
  EXPECT_EQ(Look(*solo_), 1u);
  EXPECT_EQ(ForChallenge(*solo_).hostname, "edited-1.example") << "it asked";
  EditHostname("edited-2.example");
  EXPECT_EQ(ForChallenge(*solo_).hostname, "edited-2.example") << "it asked again";
  EXPECT_EQ(Look(**other), 1u);  // looking again takes no second lock
  EXPECT_EQ(PresenceHolders(), 2);
  other->reset();
  // Its backend ends a moment after the connection closes.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (PresenceHolders() != 1 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(PresenceHolders(), 1);
  EXPECT_EQ(Look(*solo_), 0u);
  EditHostname("edited-3.example");
  EXPECT_EQ(ForChallenge(*solo_).hostname, "edited-2.example") << "solo again";
}

// Its own routine update keeps it solo, with the row it wrote.
TEST_F(PostgresSoloStoreTest, ItsOwnRoutineUpdateIsTheRowItMintsFromNext) {
  NodeRecord mine = RoutineOf(ForChallenge(*solo_), 1);
  ASSERT_TRUE(solo_->RecordRoutineUpdate(mine).ok());
  EditHostname("edited.example");
  NodeRecord next = ForChallenge(*solo_);
  EXPECT_EQ(next.version, node_.version + 1);
  EXPECT_EQ(next.hostname, node_.hostname) << "from its own write, not asked";
  ExpectRoutineFields(next, mine);
}

}  // namespace
}  // namespace attest::service::test
