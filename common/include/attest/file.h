// File access with the checks every component needs: bounded reads,
// atomic replacement, and secret files that are 0600 from birth.
#pragma once

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include <sys/types.h>

#include "attest/error.h"
#include "attest/secret.h"

namespace attest {

// Reads a whole regular file. The path is opened without blocking and
// checked on the descriptor, so a FIFO, socket or device is refused at once
// instead of hanging the caller. Fails with kNotFound, kPermissionDenied,
// kInvalidArgument (not a regular file, or larger than `max_bytes`) or kIo;
// the message names the path.
Result<std::string> ReadFile(const std::string& path, std::size_t max_bytes);

// Like ReadFile, into guarded memory; also refuses, as ssh does for private
// keys, a file not owned by the effective uid or that group or others may
// read or write (kPermissionDenied naming the path, the owner or the mode).
Result<SecretBytes> ReadSecretFile(const std::string& path, std::size_t max_bytes);

// Writes `contents` to a temporary file in the same directory, fsyncs it,
// renames it over `path` and fsyncs the directory: readers see the old file
// or the new one, never a mix, even across a crash.
Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode);

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

// Opens `path` for reading if it is a regular file, checked before the
// open (so no device is ever opened) and again on the descriptor
// (kInvalidArgument naming the path and what it is otherwise; kIo if it was
// swapped in between). With `follow_symlinks` false a symlink is refused
// too (O_NOFOLLOW).
Result<FileDescriptor> OpenRegularFile(const std::string& path, bool follow_symlinks = true);

namespace internal {
class DescriptorStreamBuffer;  // file.cpp: a std::streambuf over a descriptor
}

// Streams a file under a temporary name in the target's directory; Commit()
// fsyncs it and renames it over `path`. Dropped unless committed, so a
// failed or interrupted write never leaves a partial file at `path`.
// Everything is written and fsynced through the descriptor mkostemp
// returned: the temporary file is never reopened by name, so a symlink
// planted at its name is never followed, and Commit() refuses to rename a
// name that no longer refers to that descriptor's file. That check and the
// rename are two steps: in a directory others may write (and not sticky)
// nothing here is a guarantee, as such a user could replace `path` anyway.
// A failed fsync of the directory after the rename is not reported: the
// new file is in place, only its durability across a crash is in doubt.
// Thread-compatible.
class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> Create(const std::string& path, mode_t mode);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();

  // Buffered writes to the descriptor; a failed write sets badbit and is
  // reported (with its errno) by Commit().
  std::ostream& stream() { return *stream_; }
  // Writes straight to the descriptor, past the stream's buffer (which is
  // not wiped when freed): for secrets. Not to be mixed with stream().
  Status WriteUnbuffered(ByteView data);
  Status Commit();
  // As Commit, but publishes the file only where `path` does not exist
  // (a hard link, not a rename): kAlreadyExists otherwise, and nothing
  // written stays. For a file made once, such as a key.
  Status CommitNew();

 private:
  // Commit's checks before publishing: everything written and fsynced, and
  // the temporary name still the file written.
  Status ReadyToPublish();
  void SyncDirectory() const;
  AtomicFileWriter(std::string path, std::string temporary, FileDescriptor fd);
  // Unlinks the temporary name if it still refers to our file.
  void RemoveTemporary();
  std::string path_;
  std::string temporary_;
  std::unique_ptr<internal::DescriptorStreamBuffer> buffer_;
  std::unique_ptr<std::ostream> stream_;
  bool committed_ = false;
};

// Creates `path` (which must not exist) with mode 0600 and `contents`,
// whole or not at all, even across a crash (AtomicFileWriter::CommitNew).
Status CreateSecretFile(const std::string& path, ByteView contents);

bool PathExists(const std::string& path);

// What a file that is not a regular one is, for messages: "a directory",
// "a FIFO", "a socket", "a character device", "a block device".
std::string_view FileTypeName(mode_t mode);

// "No such file or directory" etc. for errno, with the path in front.
Error ErrorFromErrno(int error_number, std::string_view action, const std::string& path);

}  // namespace attest
