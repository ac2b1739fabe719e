#include "src/store/wal_checkpointer.h"

#include <iostream>
#include <string>

namespace attest::service::internal {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                std::chrono::milliseconds period) {
  ATTEST_ASSIGN_OR_RETURN(SqliteDatabase db,
                          SqliteDatabase::Open(path, SqliteDatabase::OpenMode::kReadWrite));
  // The WAL is fsynced before its frames are copied, and the database file
  // before the copy counts (any setting but OFF does both).
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA synchronous = FULL"));
  // Only for reading the schema during another connection's recovery: a
  // PASSIVE checkpoint itself never waits.
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA busy_timeout = 1000"));
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db), period));
}

WalCheckpointer::WalCheckpointer(SqliteDatabase db, std::chrono::milliseconds period)
    : db_(std::move(db)), period_(period), thread_([this] { Run(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

namespace {

struct CheckpointOutcome {
  bool busy = false;            // another connection was checkpointing
  std::int64_t wal_frames = 0;  // in the WAL
  std::int64_t copied = 0;      // of them, in the database file now
};

Result<CheckpointOutcome> CheckpointPassive(SqliteDatabase& db) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement, db.Prepare("PRAGMA wal_checkpoint(PASSIVE)"));
  ATTEST_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return CheckpointOutcome{};
  return CheckpointOutcome{statement.ColumnInt64(0) != 0, statement.ColumnInt64(1),
                           statement.ColumnInt64(2)};
}

}  // namespace

bool CheckpointEverything(SqliteDatabase& db, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    Result<CheckpointOutcome> outcome = CheckpointPassive(db);
    if (outcome.ok() && !outcome->busy && outcome->copied >= outcome->wal_frames) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void WalCheckpointer::Run() {
  // A failure, or a WAL past the writer's bound, is logged once per spell.
  bool reported = false;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    lock.unlock();
    Result<CheckpointOutcome> outcome = CheckpointPassive(db_);
    const bool trouble = !outcome.ok() || outcome->wal_frames > 2 * kWriterAutocheckpointFrames;
    if (trouble && !reported) {
      std::cerr << "verifier: WAL checkpoint: "
                << (outcome.ok() ? std::to_string(outcome->wal_frames) +
                                       " pages in the WAL (a long read holds it?)"
                                 : outcome.error().ToString())
                << "\n";
    }
    reported = trouble;
    lock.lock();
  }
}

}  // namespace attest::service::internal
