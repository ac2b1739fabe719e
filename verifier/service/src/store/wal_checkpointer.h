// Checkpoints the service database's WAL on a thread of its own, so the
// writer never stops inside a request to copy pages back into the database
// file: SQLite's automatic checkpoint runs in the commit that crosses its
// threshold, under the store's writer lock, and with one row per node it
// touches a page per node (at 10,000 nodes, the verifier's p99). A PASSIVE
// checkpoint waits for no reader or writer. Only the writer restarts the
// WAL from its start, when it begins a write after a complete checkpoint;
// under steady load this thread is always a little behind, so the WAL grows
// to the writer's own automatic checkpoint (kWriterAutocheckpointFrames),
// which then finds little left to copy and restarts it. That, and a reader
// holding a snapshot for long (which stops every checkpoint), bound the
// WAL's size; journal_size_limit trims the file after a restart.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "attest/error.h"
#include "attest/sqlite.h"

namespace attest::service::internal {

// The writer's own automatic checkpoint: 16,384 pages (64 MiB of WAL).
inline constexpr int kWriterAutocheckpointFrames = 16384;
// What a restarted WAL file is trimmed back to.
inline constexpr std::int64_t kWalSizeLimitBytes = 64 * 1024 * 1024;

// A PASSIVE checkpoint of `db`, retried while another connection's
// checkpoint holds the lock (SQLite then answers "busy" in the result row,
// not with an error), until every frame is copied back or `within` passed.
// True when every frame was copied back.
bool CheckpointEverything(SqliteDatabase& db, std::chrono::milliseconds within);

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
