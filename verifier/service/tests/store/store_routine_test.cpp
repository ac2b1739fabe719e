// RecordRoutineUpdate: a routine attestation's fields only (last_*, boot
// and runtime caches), visible at once, kept across a restart and a crash,
// guarded by version and state like Commit, and ordered with the durable
// Commits around it.
#include <chrono>
#include <filesystem>
#include <thread>

#include "attest/ledger/kinds.h"
#include "attest/sqlite.h"

#include "tests/store/store_test_util.h"

namespace attest::service::test {
namespace {

// What a later trusted attestation of MakeNode(n) changes.
NodeRecord RoutineOf(NodeRecord node, int round) {
  node.last_attestation = At(1'790'001'000 + round);
  node.last_verdict_json = R"({"trusted":true,"round":)" + std::to_string(round) + "}";
  node.last_clock = 5000 + static_cast<std::uint64_t>(round);
  node.last_reset_count = 8;
  node.last_restart_count = 2;
  node.boot_cache = BootCache{8, 2, Bytes(32, static_cast<std::uint8_t>(round)),
                              R"({"round":)" + std::to_string(round) + "}"};
  node.runtime_cache = RuntimeCache{8, 2, 100 + static_cast<std::uint64_t>(round),
                                    R"({"runtime_round":)" + std::to_string(round) + "}"};
  return node;
}

class RoutineTest : public StoreTest {
 protected:
  NodeRecord MustRead(const std::string& node_id) {
    auto read = store_->GetNode(node_id);
    EXPECT_TRUE(read.ok()) << read.error().ToString();
    EXPECT_TRUE(read.ok() && read->has_value());
    return read.ok() && read->has_value() ? **read : NodeRecord{};
  }

  void MustRecord(const NodeRecord& node) {
    Status recorded = store_->RecordRoutineUpdate(node);
    EXPECT_TRUE(recorded.ok()) << recorded.error().ToString();
  }

  void ExpectRoutineFields(const NodeRecord& read, const NodeRecord& written) {
    EXPECT_EQ(read.last_attestation, written.last_attestation);
    EXPECT_EQ(read.last_verdict_json, written.last_verdict_json);
    EXPECT_EQ(read.last_clock, written.last_clock);
    EXPECT_EQ(read.last_reset_count, written.last_reset_count);
    EXPECT_EQ(read.last_restart_count, written.last_restart_count);
    ASSERT_TRUE(read.boot_cache.has_value());
    ASSERT_TRUE(written.boot_cache.has_value());
    EXPECT_EQ(read.boot_cache->reset_count, written.boot_cache->reset_count);
    EXPECT_EQ(read.boot_cache->restart_count, written.boot_cache->restart_count);
    EXPECT_EQ(read.boot_cache->boot_log_digest, written.boot_cache->boot_log_digest);
    EXPECT_EQ(read.boot_cache->verified_state_json, written.boot_cache->verified_state_json);
    ASSERT_TRUE(read.runtime_cache.has_value());
    ASSERT_TRUE(written.runtime_cache.has_value());
    EXPECT_EQ(read.runtime_cache->reset_count, written.runtime_cache->reset_count);
    EXPECT_EQ(read.runtime_cache->restart_count, written.runtime_cache->restart_count);
    EXPECT_EQ(read.runtime_cache->entries, written.runtime_cache->entries);
    EXPECT_EQ(read.runtime_cache->verified_state_json, written.runtime_cache->verified_state_json);
  }
};

TEST_F(RoutineTest, ReadersSeeTheUpdateAndTheVersionAdvances) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 1);
  ASSERT_EQ(routine.version, 1);
  MustRecord(routine);
  NodeRecord read = MustRead(NodeId(1));
  ExpectRoutineFields(read, routine);
  EXPECT_EQ(read.version, 2);
  EXPECT_EQ(read.state, NodeState::kTrusted);
}

TEST_F(RoutineTest, OnlyTheRoutineFieldsAreWritten) {
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

TEST_F(RoutineTest, ARuntimeCacheDroppedIsWrittenAsAllNull) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 1);
  routine.runtime_cache.reset();
  MustRecord(routine);
  EXPECT_FALSE(MustRead(NodeId(1)).runtime_cache.has_value());
}

TEST_F(RoutineTest, AStaleVersionIsBusyAndWritesNothing) {
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

TEST_F(RoutineTest, AStateChangeIsRefusedAndWritesNothing) {
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

TEST_F(RoutineTest, AnUnknownNodeIsNotFoundAndNotCreated) {
  Status missing = store_->RecordRoutineUpdate(RoutineOf(MakeNode(3), 1));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto read = store_->GetNode(NodeId(3));
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value());
}

TEST_F(RoutineTest, AMalformedFieldIsRefusedNamingIt) {
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

TEST_F(RoutineTest, UpdatesSurviveACleanRestart) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord node = MustRead(NodeId(1));
  for (int round = 1; round <= 50; ++round) {
    node = RoutineOf(node, round);
    MustRecord(node);
    ++node.version;
  }
  store_.reset();
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  NodeRecord read = MustRead(NodeId(1));
  ExpectRoutineFields(read, node);
  EXPECT_EQ(read.version, 51);
}

// A killed process (not a power loss) loses nothing: the WAL frames are
// written before RecordRoutineUpdate returns. The copy of the open files
// is what the next process finds.
TEST_F(RoutineTest, UpdatesSurviveAKilledProcess) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 7);
  MustRecord(routine);
  const std::string copy = dir_.File("copy.db");
  for (const char* suffix : {"", "-wal"}) {
    std::filesystem::copy_file(path_ + suffix, copy + suffix);
  }
  auto reopened = OpenSqliteServiceStore(copy, false);
  ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
  auto read = (*reopened)->GetNode(NodeId(1));
  ASSERT_TRUE(read.ok() && read->has_value());
  ExpectRoutineFields(**read, routine);
  EXPECT_EQ((**read).version, 2);
}

TEST_F(RoutineTest, AStateChangeAfterRoutineUpdatesWins) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord before = MustRead(NodeId(1));
  NodeRecord node = before;
  for (int round = 1; round <= 3; ++round) {
    node = RoutineOf(node, round);
    MustRecord(node);
    ++node.version;
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

  store_ = Open();
  ASSERT_NE(store_, nullptr);
  NodeRecord read = MustRead(NodeId(1));
  EXPECT_EQ(read.state, NodeState::kUntrusted);
  EXPECT_FALSE(read.boot_cache.has_value());
  EXPECT_EQ(read.last_clock, node.last_clock) << "the routine clock the state change carried";
  EXPECT_EQ(read.version, 5);
}

// A routine update of one node followed by a durable Commit of another:
// after a restart both are there, and the Commit's ledger event with them.
TEST_F(RoutineTest, ARoutineUpdateIsKeptWithTheCommitAfterIt) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord routine = RoutineOf(MustRead(NodeId(1)), 1);
  MustRecord(routine);
  MustCommit(
      StoreChange{.node = MakeNode(2), .events = {MakeEvent(ledger::kinds::kNodeEnrolled, 2)}});
  MustRecord(RoutineOf(MustRead(NodeId(2)), 2));
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  ExpectRoutineFields(MustRead(NodeId(1)), routine);
  EXPECT_EQ(MustRead(NodeId(2)).version, 2);
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok()) << pending.error().ToString();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].event.kind, ledger::kinds::kNodeEnrolled);
}

// The last_verdict of `node_id` in the database file alone (a copy of it
// without its WAL): what a checkpoint has written back, "" when nothing has.
std::string CheckpointedVerdict(const std::string& path, const std::string& copy,
                                const std::string& node_id) {
  std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(copy + "-wal");
  std::filesystem::remove(copy + "-shm");
  auto db = SqliteDatabase::Open(copy, SqliteDatabase::OpenMode::kReadWrite);
  if (!db.ok()) return "";
  auto read = db->Prepare("SELECT last_verdict FROM nodes WHERE node_id = ?");
  if (!read.ok() || !read->BindText(1, node_id).ok()) return "";
  auto found = read->Step();
  return found.ok() && *found ? std::string(read->ColumnText(0)) : "";
}

// The writer never checkpoints inside a commit below 16,384 WAL pages, yet
// the database file catches up with the WAL within moments, with the store
// open: the store's checkpoint thread copies the pages back, off the
// request path.
TEST_F(RoutineTest, TheWalIsCheckpointedWhileTheStoreIsOpen) {
  MustCommit(StoreChange{.node = MakeNode(1)});
  NodeRecord node = MustRead(NodeId(1));
  for (int round = 1; round <= 20; ++round) {
    NodeRecord routine = RoutineOf(node, round);
    MustRecord(routine);
    node = MustRead(NodeId(1));
  }
  const std::string expected = node.last_verdict_json;
  const std::string copy = dir_.File("checkpointed.db");
  std::string seen;
  for (int i = 0; i < 100 && seen != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = CheckpointedVerdict(path_, copy, NodeId(1));
  }
  EXPECT_EQ(seen, expected) << "the database file did not catch up with the WAL";
  EXPECT_GT(std::filesystem::file_size(path_ + "-wal"), 0u) << "the store is still open";
}

}  // namespace
}  // namespace attest::service::test
