#include "attest/attestd/runtime_hash.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"

namespace attest::attestd {
namespace {

constexpr std::size_t kMinChunkSize = std::size_t{4} * 1024;
constexpr std::size_t kMaxChunkSize = std::size_t{64} * 1024 * 1024;

// "open: Permission denied (EACCES)": the errno text for people and its
// symbolic name for grep, both stable across locales.
std::string ErrnoDetail(std::string_view action, int error_number) {
  std::string detail(action);
  detail += ": ";
  detail += std::error_code(error_number, std::generic_category()).message();
  if (const char* name = ::strerrorname_np(error_number); name != nullptr) {
    detail += " (";
    detail += name;
    detail += ")";
  }
  return detail;
}

FileMeasurement Failure(runtime::RuntimeKind kind, std::string detail) {
  FileMeasurement result;
  result.kind = kind;
  result.detail = std::move(detail);
  return result;
}

// ENOENT and ENOTDIR mean the path names nothing; every other errno means
// something is there that we cannot hash.
FileMeasurement FromErrno(std::string_view action, int error_number) {
  runtime::RuntimeKind kind = error_number == ENOENT || error_number == ENOTDIR
                                  ? runtime::RuntimeKind::kMissing
                                  : runtime::RuntimeKind::kUnreadable;
  return Failure(kind, ErrnoDetail(action, error_number));
}

FileMeasurement NotRegular(mode_t mode) {
  return Failure(runtime::RuntimeKind::kUnreadable,
                 "not a regular file: " + std::string(FileTypeName(mode)));
}

bool SameTime(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// What the before/after comparison looks at: a rename over the path changes
// st_ino/st_dev, a write changes st_size or st_mtim, chmod/chown/truncate
// to the same size change st_ctim.
std::string DescribeChange(const struct stat& before, const struct stat& after) {
  if (before.st_dev != after.st_dev || before.st_ino != after.st_ino) return "replaced";
  if (before.st_size != after.st_size) {
    return "size changed from " + std::to_string(before.st_size) + " to " +
           std::to_string(after.st_size) + " bytes";
  }
  if (!SameTime(before.st_mtim, after.st_mtim)) return "modified (mtime changed)";
  if (!SameTime(before.st_ctim, after.st_ctim)) return "changed (ctime changed)";
  return "";
}

}  // namespace

// The outcome of one read of the file: final, or "changed, try again".
struct RuntimeFileHasher::Attempt {
  FileMeasurement measurement;
  std::string change;  // non-empty: the file changed while being read
};

RuntimeFileHasher::RuntimeFileHasher(HashOptions options)
    : options_(std::move(options)),
      buffer_(std::clamp(options_.chunk_size, kMinChunkSize, kMaxChunkSize)) {}

FileMeasurement RuntimeFileHasher::Hash(const std::string& path) {
  int attempts = std::max(options_.max_attempts, 1);
  std::string change;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    Attempt result = HashOnce(path, attempt);
    if (result.change.empty()) return std::move(result.measurement);
    change = std::move(result.change);
  }
  return Failure(
      runtime::RuntimeKind::kUnstable,
      "changed while being hashed, " + std::to_string(attempts) + " attempts; last: " + change);
}

RuntimeFileHasher::Attempt RuntimeFileHasher::HashOnce(const std::string& path, int attempt) {
  // stat first, so a FIFO, socket or device node is never opened: opening
  // some devices has side effects. The fstat below is what counts.
  struct stat named {};
  if (::stat(path.c_str(), &named) != 0) return {FromErrno("stat", errno), ""};
  if (!S_ISREG(named.st_mode)) return {NotRegular(named.st_mode), ""};

  // O_NONBLOCK: if a FIFO replaced the file since stat, open must not wait
  // for a writer. O_NOCTTY: nor may a terminal become ours.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return {FromErrno("open", errno), ""};
  struct stat before {};
  if (::fstat(fd.get(), &before) != 0) return {FromErrno("fstat", errno), ""};
  if (!S_ISREG(before.st_mode)) return {NotRegular(before.st_mode), ""};
  if (before.st_dev != named.st_dev || before.st_ino != named.st_ino) {
    return {{}, "replaced between stat and open"};
  }
  // Advisory only: a failure changes speed, not the result.
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  const auto expected = static_cast<std::uint64_t>(before.st_size);
  Sha256 hasher;
  std::uint64_t total = 0;
  bool first_chunk = true;
  while (true) {
    ssize_t n = ::read(fd.get(), buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return {FromErrno("read", errno), ""};
    }
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    // Reading stops at the size fstat gave plus one chunk, so a writer that
    // keeps appending cannot keep us reading forever.
    if (total > expected) {
      return {{}, "grew while being read (more than " + std::to_string(expected) + " bytes)"};
    }
    hasher.Update(ByteView(buffer_.data(), static_cast<std::size_t>(n)));
    if (first_chunk && options_.after_first_chunk) options_.after_first_chunk(attempt);
    first_chunk = false;
  }
  struct stat after {};
  if (::fstat(fd.get(), &after) != 0) return {FromErrno("fstat", errno), ""};
  if (std::string change = DescribeChange(before, after); !change.empty()) return {{}, change};
  // The descriptor still reads the old file after a rename over the path
  // (how package managers install): the path must still name what was read.
  struct stat now {};
  if (::stat(path.c_str(), &now) != 0) return {{}, "removed while being read"};
  if (now.st_dev != after.st_dev || now.st_ino != after.st_ino) {
    return {{}, "replaced while being read"};
  }
  if (total != expected) {
    return {{}, "read " + std::to_string(total) + " of " + std::to_string(expected) + " bytes"};
  }
  FileMeasurement measurement;
  measurement.sha256 = hasher.Finish();
  measurement.size = total;
  return {std::move(measurement), ""};
}

FileMeasurement HashRuntimeFile(const std::string& path, const HashOptions& options) {
  return RuntimeFileHasher(options).Hash(path);
}

}  // namespace attest::attestd
