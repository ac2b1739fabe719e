// Streaming SHA-256 of one runtime file, with every way a path can fail to be
// a stable regular file reported as an outcome (FileMeasurement), never as a
// crash, a hang or a silent skip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attest/runtime/entry.h"
#include "attest/sha256.h"

namespace attest::attestd {

// What hashing one path found; `kind` says which other fields are set.
struct FileMeasurement {
  runtime::RuntimeKind kind = runtime::RuntimeKind::kFile;
  Sha256Digest sha256{};   // kFile only
  std::uint64_t size = 0;  // kFile only: the bytes hashed
  std::string detail;      // other kinds: e.g. "stat: Too many levels of symbolic links (ELOOP)"
};

// 512 KiB: with 256 KiB the fastest of 64 KiB..4 MiB on the development VM
// (bench/runtime_hash_bench.cpp; 64 KiB is 4% slower, 1 MiB and up lose
// ~1%): large enough that syscalls are noise, small enough that what read()
// copied is still in cache when the hash reads it.
inline constexpr std::size_t kDefaultHashChunkSize = std::size_t{512} * 1024;

struct HashOptions {
  std::size_t chunk_size = kDefaultHashChunkSize;  // clamped to [4 KiB, 64 MiB]
  // A file that changes while it is read is read again, up to this many
  // times in all (the first read and 3 retries), then reported kUnstable.
  int max_attempts = 4;
  // Test hook, called after the first chunk of each attempt (1-based) has
  // been read. It exists so a test can change a file at an exact point and
  // pin the retry count; a racing writer thread (also tested) cannot say on
  // which attempt its write landed. Production code leaves it empty.
  std::function<void(int attempt)> after_first_chunk;
};

// Reuses one read buffer across files, so memory stays constant whatever
// the file sizes. Not thread-safe; use one per thread.
class RuntimeFileHasher {
 public:
  explicit RuntimeFileHasher(HashOptions options = {});

  // Follows symlinks (runc is often one). A FIFO, socket or device is not
  // opened (and if one races in, the open cannot block). The file is
  // compared before and after reading (size, mtime, ctime, inode, device,
  // bytes read, and that the path still names it) to catch changes.
  FileMeasurement Hash(const std::string& path);

 private:
  struct Attempt;
  Attempt HashOnce(const std::string& path, int attempt);

  HashOptions options_;
  std::vector<std::uint8_t> buffer_;  // one chunk
};

// One-off convenience: a RuntimeFileHasher for a single file.
FileMeasurement HashRuntimeFile(const std::string& path, const HashOptions& options = {});

}  // namespace attest::attestd
