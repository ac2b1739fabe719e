// The SQLite store's ledger drain lock: an exclusive flock on a file beside
// the database. The kernel drops it when the process dies, so a crashed
// drainer never blocks the next, and it cannot be lost while held.
#include <cerrno>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "attest/file.h"

#include "src/store/sqlite_internal.h"

namespace attest::service::internal {
namespace {

class FileDrainLock final : public LedgerDrainLock {
 public:
  explicit FileDrainLock(int fd) : fd_(fd) {}
  FileDrainLock(const FileDrainLock&) = delete;
  FileDrainLock& operator=(const FileDrainLock&) = delete;
  ~FileDrainLock() override { ::close(fd_); }  // releases the flock

  Status CheckHeld() override { return OkStatus(); }

 private:
  int fd_;
};

}  // namespace

std::string DrainLockPathFor(const std::string& database_path) {
  return (std::filesystem::path(database_path).parent_path() / "ledger-drain.lock").string();
}

Result<std::unique_ptr<LedgerDrainLock>> LockDrainFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrorFromErrno(errno, "open drain lock", path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const int error = errno;
      ::close(fd);
      return ErrorFromErrno(error, "lock", path);
    }
  }
  return std::unique_ptr<LedgerDrainLock>(new FileDrainLock(fd));
}

}  // namespace attest::service::internal
