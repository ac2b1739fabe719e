// Checkpoints the service database's WAL on a thread of its own, so the
// writer never stops inside a request to copy pages back into the database
// file: SQLite's automatic checkpoint runs in the commit that crosses its
// threshold, under the store's writer lock, and with one row per node it
// touches a page per node (at 10,000 nodes, the verifier's p99). A PASSIVE
// checkpoint waits for no reader or writer. The writer keeps an automatic
// checkpoint at a far larger WAL (kWriterAutocheckpointFrames) as the bound
// should this thread fall behind.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "attest/error.h"
#include "attest/sqlite.h"

namespace attest::service::internal {

// The writer's own automatic checkpoint: 16,384 pages (64 MiB of WAL).
inline constexpr int kWriterAutocheckpointFrames = 16384;

class WalCheckpointer {
 public:
  // A connection of its own to `path` and a thread that checkpoints every
  // `period` until destruction.
  static Result<std::unique_ptr<WalCheckpointer>> Start(const std::string& path,
                                                        std::chrono::milliseconds period);
  ~WalCheckpointer();  // stops the thread and closes the connection
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

 private:
  WalCheckpointer(SqliteDatabase db, std::chrono::milliseconds period);
  void Run();

  SqliteDatabase db_;
  const std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: started once everything above exists
};

}  // namespace attest::service::internal
