// RecordRoutineUpdate on SQLite's files: kept across a killed process (the
// WAL frames are written before it returns), and checkpointed off the
// request path. What every backend does: routine_conformance.cpp.
#include <chrono>
#include <filesystem>
#include <thread>

#include "attest/sqlite.h"

#include "tests/store/store_test_util.h"

namespace attest::service::test {
namespace {

class RoutineTest : public StoreTest {
 protected:
  NodeRecord MustRead(const std::string& node_id) { return test::MustRead(*store_, node_id); }

  void MustRecord(const NodeRecord& node) {
    Status recorded = store_->RecordRoutineUpdate(node);
    EXPECT_TRUE(recorded.ok()) << recorded.error().ToString();
  }
};

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
