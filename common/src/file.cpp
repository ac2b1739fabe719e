#include "attest/file.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <streambuf>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attest {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}
namespace {

std::string OwnerName(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  std::array<char, 1024> buffer{};
  struct passwd entry {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    text += " (" + std::string(found->pw_name) + ")";
  }
  return text;
}

Status CheckSize(const struct stat& info, std::size_t max_bytes, const std::string& path) {
  if (static_cast<std::size_t>(info.st_size) > max_bytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ": file is " + std::to_string(info.st_size) +
                         " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  return OkStatus();
}

// Only the owner may read a secret, and the owner must be who runs us: a
// key someone else owns could have been swapped by them (ssh's rule).
Status CheckSecretFileAccess(const struct stat& info, const std::string& path) {
  if (info.st_uid != ::geteuid()) {
    return MakeError(ErrorCode::kPermissionDenied,
                     path + ": secret file is owned by " + OwnerName(info.st_uid) +
                         ", not by the user running this (" + OwnerName(::geteuid()) +
                         "); chown it to that user or run as its owner");
  }
  if ((info.st_mode & 077) != 0) {
    std::array<char, 8> mode{};
    (void)std::snprintf(mode.data(), mode.size(), "%04o", info.st_mode & 07777);
    return MakeError(ErrorCode::kPermissionDenied,
                     path + ": secret file is accessible by group or others (mode " +
                         std::string(mode.data()) + "); run chmod 600 " + path);
  }
  return OkStatus();
}

// Reads up to `capacity` bytes; a file that grew past that since fstat is an
// error, not a silent truncation.
Result<std::size_t> ReadInto(int fd, std::uint8_t* buffer, std::size_t capacity,
                             const std::string& path) {
  std::size_t total = 0;
  while (true) {
    std::uint8_t probe = 0;
    std::uint8_t* target = total < capacity ? buffer + total : &probe;
    std::size_t room = total < capacity ? capacity - total : 1;
    ssize_t n = ::read(fd, target, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrorFromErrno(errno, "read", path);
    }
    if (n == 0) return total;
    if (total >= capacity) {
      return MakeError(ErrorCode::kIo, path + ": file grew while being read");
    }
    total += static_cast<std::size_t>(n);
  }
}

}  // namespace

Error ErrorFromErrno(int error_number, std::string_view action, const std::string& path) {
  ErrorCode code = ErrorCode::kIo;
  if (error_number == ENOENT || error_number == ENOTDIR) code = ErrorCode::kNotFound;
  if (error_number == EACCES || error_number == EPERM || error_number == EROFS) {
    code = ErrorCode::kPermissionDenied;
  }
  if (error_number == EEXIST) code = ErrorCode::kAlreadyExists;
  // std::error_code::message, unlike strerror, is safe from any thread.
  return MakeError(code, path + ": " + std::string(action) + ": " +
                             std::error_code(error_number, std::generic_category()).message());
}

Error NotRegular(const std::string& path, mode_t mode) {
  return MakeError(ErrorCode::kInvalidArgument, path + ": is " + std::string(FileTypeName(mode)) +
                                                    ", not a regular file; give a regular file");
}

Result<FileDescriptor> OpenRegularFile(const std::string& path, bool follow_symlinks) {
  // Look before opening: opening a device can act (/dev/watchdog arms a
  // watchdog, a tty becomes the controlling terminal).
  struct stat before {};
  int looked = follow_symlinks ? ::stat(path.c_str(), &before) : ::lstat(path.c_str(), &before);
  if (looked != 0) return ErrorFromErrno(errno, "stat", path);
  if (!follow_symlinks && S_ISLNK(before.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": is a symlink (not followed)");
  }
  if (!S_ISREG(before.st_mode)) return NotRegular(path, before.st_mode);
  // O_NONBLOCK and O_NOCTTY: should the path be swapped for a FIFO or a tty
  // between the look and the open, the open neither waits nor acts; the
  // descriptor is then checked to be the file looked at.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (follow_symlinks ? 0 : O_NOFOLLOW);
  FileDescriptor fd(::open(path.c_str(), flags));
  if (fd.get() < 0) {
    if (errno == ELOOP && !follow_symlinks) {
      return MakeError(ErrorCode::kInvalidArgument, path + ": is a symlink (not followed)");
    }
    return ErrorFromErrno(errno, "open", path);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrorFromErrno(errno, "stat", path);
  if (!S_ISREG(info.st_mode)) return NotRegular(path, info.st_mode);
  if (info.st_dev != before.st_dev || info.st_ino != before.st_ino) {
    return MakeError(ErrorCode::kIo, path + ": changed while it was being opened; try again");
  }
  return fd;
}

Result<std::string> ReadFile(const std::string& path, std::size_t max_bytes) {
  ATTEST_ASSIGN_OR_RETURN(FileDescriptor fd, OpenRegularFile(path));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrorFromErrno(errno, "stat", path);
  ATTEST_RETURN_IF_ERROR(CheckSize(info, max_bytes, path));
  auto size = static_cast<std::size_t>(info.st_size);
  std::string contents(size, '\0');
  ATTEST_ASSIGN_OR_RETURN(
      std::size_t read,
      ReadInto(fd.get(), reinterpret_cast<std::uint8_t*>(contents.data()), size, path));
  contents.resize(read);
  return contents;
}

Result<SecretBytes> ReadSecretFile(const std::string& path, std::size_t max_bytes) {
  // Symlinks are followed (secrets mounted by an orchestrator often are
  // links); every check below is made on the file actually opened.
  ATTEST_ASSIGN_OR_RETURN(FileDescriptor fd, OpenRegularFile(path));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrorFromErrno(errno, "stat", path);
  ATTEST_RETURN_IF_ERROR(CheckSecretFileAccess(info, path));
  ATTEST_RETURN_IF_ERROR(CheckSize(info, max_bytes, path));
  auto size = static_cast<std::size_t>(info.st_size);
  ATTEST_ASSIGN_OR_RETURN(SecretBytes secret, SecretBytes::Allocate(size));
  ATTEST_ASSIGN_OR_RETURN(std::size_t read, ReadInto(fd.get(), secret.data(), size, path));
  secret.Truncate(read);
  return secret;
}

namespace internal {

// A buffered std::streambuf that writes to a descriptor it owns, keeping
// the first write error's errno for AtomicFileWriter::Commit to report.
class DescriptorStreamBuffer final : public std::streambuf {
 public:
  explicit DescriptorStreamBuffer(FileDescriptor fd) : fd_(std::move(fd)) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  int fd() const { return fd_.get(); }
  int write_error() const { return write_error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!Drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return Drain() ? 0 : -1; }

 private:
  bool Drain() {
    if (write_error_ != 0) return false;
    auto pending = static_cast<std::size_t>(pptr() - pbase());
    std::size_t written = 0;
    while (written < pending) {
      ssize_t n = ::write(fd_.get(), pbase() + written, pending - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        write_error_ = errno;
        return false;
      }
      written += static_cast<std::size_t>(n);
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return true;
  }

  FileDescriptor fd_;
  std::array<char, std::size_t{64} * 1024> buffer_{};
  int write_error_ = 0;
};

}  // namespace internal

AtomicFileWriter::AtomicFileWriter(std::string path, std::string temporary, FileDescriptor fd)
    : path_(std::move(path)),
      temporary_(std::move(temporary)),
      buffer_(std::make_unique<internal::DescriptorStreamBuffer>(std::move(fd))),
      stream_(std::make_unique<std::ostream>(buffer_.get())) {}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      temporary_(std::move(other.temporary_)),
      buffer_(std::move(other.buffer_)),
      stream_(std::move(other.stream_)),
      committed_(std::exchange(other.committed_, true)) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_ && !temporary_.empty()) RemoveTemporary();
}

void AtomicFileWriter::RemoveTemporary() {
  // Only our own file: whatever someone put at the name instead is theirs.
  struct stat ours {};
  struct stat named {};
  if (buffer_ && buffer_->fd() >= 0 && ::fstat(buffer_->fd(), &ours) == 0 &&
      ::lstat(temporary_.c_str(), &named) == 0 && ours.st_dev == named.st_dev &&
      ours.st_ino == named.st_ino) {
    ::unlink(temporary_.c_str());
  }
}

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::string& path, mode_t mode) {
  std::filesystem::path target(path);
  std::filesystem::path directory = target.has_parent_path() ? target.parent_path() : ".";
  std::string name = ".";  // appended, not "." + ...: a false -Wrestrict in GCC 12 at -O3
  name += target.filename().string();
  name += ".XXXXXX";
  std::string temporary = (directory / name).string();
  FileDescriptor fd(::mkostemp(temporary.data(), O_CLOEXEC));
  if (fd.get() < 0) return ErrorFromErrno(errno, "create temporary file for", path);
  if (::fchmod(fd.get(), mode) != 0) {
    Error error = ErrorFromErrno(errno, "chmod", temporary);
    ::unlink(temporary.c_str());
    return error;
  }
  return AtomicFileWriter(path, std::move(temporary), std::move(fd));
}

Status AtomicFileWriter::WriteUnbuffered(ByteView data) {
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(buffer_->fd(), data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrorFromErrno(errno, "write", temporary_);
    }
    written += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Status AtomicFileWriter::ReadyToPublish() {
  if (committed_) return MakeError(ErrorCode::kInternal, path_ + ": committed twice");
  stream_->flush();
  if (int error = buffer_->write_error(); error != 0) {
    return ErrorFromErrno(error, "write (disk full?)", temporary_);
  }
  if (!*stream_) return MakeError(ErrorCode::kIo, path_ + ": write failed");
  if (::fsync(buffer_->fd()) != 0) return ErrorFromErrno(errno, "fsync", temporary_);
  // Publish only the file we wrote: if the name was replaced (a symlink
  // planted there, say), publishing it would publish someone else's file.
  struct stat ours {};
  struct stat named {};
  if (::fstat(buffer_->fd(), &ours) != 0) return ErrorFromErrno(errno, "stat", temporary_);
  if (::lstat(temporary_.c_str(), &named) != 0 || ours.st_dev != named.st_dev ||
      ours.st_ino != named.st_ino) {
    return MakeError(ErrorCode::kIo, temporary_ +
                                         ": the temporary file was replaced or removed while "
                                         "being written; " +
                                         path_ + " was left as it was");
  }
  return OkStatus();
}

void AtomicFileWriter::SyncDirectory() const {
  std::filesystem::path target(path_);
  std::string directory = target.has_parent_path() ? target.parent_path().string() : ".";
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

Status AtomicFileWriter::Commit() {
  ATTEST_RETURN_IF_ERROR(ReadyToPublish());
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
    return ErrorFromErrno(errno, "rename temporary file to", path_);
  }
  committed_ = true;
  SyncDirectory();
  return OkStatus();
}

Status AtomicFileWriter::CommitNew() {
  ATTEST_RETURN_IF_ERROR(ReadyToPublish());
  if (::link(temporary_.c_str(), path_.c_str()) != 0) {
    return ErrorFromErrno(errno, "create", path_);  // the destructor drops the temporary
  }
  RemoveTemporary();
  committed_ = true;
  SyncDirectory();
  return OkStatus();
}

Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode) {
  ATTEST_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Create(path, mode));
  writer.stream().write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return writer.Commit();
}

Status CreateSecretFile(const std::string& path, ByteView contents) {
  // Refused at once where the file exists; CommitNew refuses it again
  // should one appear meanwhile.
  if (PathExists(path)) return ErrorFromErrno(EEXIST, "create", path);
  // AtomicFileWriter's mode is exact, whatever the umask.
  ATTEST_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Create(path, 0600));
  // Never through the stream's buffer: no copy of a secret outside the
  // caller's guarded memory.
  ATTEST_RETURN_IF_ERROR(writer.WriteUnbuffered(contents));
  return writer.CommitNew();
}

bool PathExists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

std::string_view FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

}  // namespace attest
