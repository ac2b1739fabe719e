#include "src/store/wal_checkpointer.h"

#include <iostream>

namespace attest::service::internal {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                std::chrono::milliseconds period) {
  ATTEST_ASSIGN_OR_RETURN(SqliteDatabase db,
                          SqliteDatabase::Open(path, SqliteDatabase::OpenMode::kReadWrite));
  // FULL: the database file is fsynced before the WAL may be reset, so a
  // checkpoint never loses what the WAL held.
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA synchronous = FULL"));
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

void WalCheckpointer::Run() {
  bool reported = false;  // a failure is logged once, not every period
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    lock.unlock();
    Status checkpointed = db_.Execute("PRAGMA wal_checkpoint(PASSIVE)");
    if (!checkpointed.ok() && !reported) {
      std::cerr << "verifier: WAL checkpoint: " << checkpointed.error().ToString()
                << " (the writer's own checkpoint still bounds the WAL)\n";
    }
    reported = !checkpointed.ok();
    lock.lock();
  }
}

}  // namespace attest::service::internal
