// File access with the checks every component needs: bounded reads,
// atomic replacement, and secret files that are 0600 from birth.
#pragma once

#include <cstddef>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <sys/types.h>

#include "attest/error.h"
#include "attest/secret.h"

namespace attest {

// Reads a whole regular file. Fails with kNotFound, kPermissionDenied,
// kInvalidArgument (a directory, or larger than `max_bytes`) or kIo; the
// message names the path.
Result<std::string> ReadFile(const std::string& path, std::size_t max_bytes);

// Like ReadFile, into guarded memory; also refuses a file that group or
// others may read or write, as ssh does for private keys.
Result<SecretBytes> ReadSecretFile(const std::string& path, std::size_t max_bytes);

// Writes `contents` to a temporary file in the same directory, fsyncs it,
// renames it over `path` and fsyncs the directory: readers see the old file
// or the new one, never a mix, even across a crash.
Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode);

// Streams a file under a temporary name in the target's directory; Commit()
// fsyncs it and renames it over `path`. Dropped unless committed, so a
// failed or interrupted write never leaves a partial file at `path`.
// Owns a POSIX file descriptor and closes it when the scope ends.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&&) = delete;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Gives up ownership: the caller closes the descriptor.
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> Create(const std::string& path, mode_t mode);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();

  std::ostream& stream() { return *stream_; }
  Status Commit();

 private:
  AtomicFileWriter(std::string path, std::string temporary);
  std::string path_;
  std::string temporary_;
  std::unique_ptr<std::ofstream> stream_;
  bool committed_ = false;
};

// Creates `path` (which must not exist) with mode 0600 and `contents`.
Status CreateSecretFile(const std::string& path, ByteView contents);

bool PathExists(const std::string& path);

// "No such file or directory" etc. for errno, with the path in front.
Error ErrorFromErrno(int error_number, std::string_view action, const std::string& path);

}  // namespace attest
