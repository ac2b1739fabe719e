#include "attest/file.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attest {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}
namespace {

Status WriteAll(int fd, ByteView data, const std::string& path) {
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrorFromErrno(errno, "write", path);
    }
    written += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Result<FileDescriptor> OpenForReading(const std::string& path, std::size_t max_bytes,
                                      std::size_t& size) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrorFromErrno(errno, "open", path);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrorFromErrno(errno, "stat", path);
  if (!S_ISREG(info.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": not a regular file");
  }
  if (static_cast<std::size_t>(info.st_size) > max_bytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ": file is " + std::to_string(info.st_size) +
                         " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  size = static_cast<std::size_t>(info.st_size);
  return fd;
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

Result<std::string> ReadFile(const std::string& path, std::size_t max_bytes) {
  std::size_t size = 0;
  ATTEST_ASSIGN_OR_RETURN(FileDescriptor fd, OpenForReading(path, max_bytes, size));
  std::string contents(size, '\0');
  ATTEST_ASSIGN_OR_RETURN(
      std::size_t read,
      ReadInto(fd.get(), reinterpret_cast<std::uint8_t*>(contents.data()), size, path));
  contents.resize(read);
  return contents;
}

Result<SecretBytes> ReadSecretFile(const std::string& path, std::size_t max_bytes) {
  std::size_t size = 0;
  ATTEST_ASSIGN_OR_RETURN(FileDescriptor fd, OpenForReading(path, max_bytes, size));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrorFromErrno(errno, "stat", path);
  if ((info.st_mode & 077) != 0) {
    std::array<char, 8> mode{};
    (void)std::snprintf(mode.data(), mode.size(), "%04o", info.st_mode & 07777);
    return MakeError(ErrorCode::kPermissionDenied,
                     path + ": secret key file is accessible by group or others (mode " +
                         std::string(mode.data()) + "); run chmod 600 " + path);
  }
  ATTEST_ASSIGN_OR_RETURN(SecretBytes secret, SecretBytes::Allocate(size));
  ATTEST_ASSIGN_OR_RETURN(std::size_t read, ReadInto(fd.get(), secret.data(), size, path));
  secret.Truncate(read);
  return secret;
}

AtomicFileWriter::AtomicFileWriter(std::string path, std::string temporary)
    : path_(std::move(path)),
      temporary_(std::move(temporary)),
      stream_(std::make_unique<std::ofstream>(temporary_, std::ios::binary | std::ios::trunc)) {}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      temporary_(std::move(other.temporary_)),
      stream_(std::move(other.stream_)),
      committed_(std::exchange(other.committed_, true)) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_ && !temporary_.empty()) {
    stream_.reset();
    ::unlink(temporary_.c_str());
  }
}

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::string& path, mode_t mode) {
  std::filesystem::path target(path);
  std::filesystem::path directory = target.has_parent_path() ? target.parent_path() : ".";
  std::string temporary = (directory / ("." + target.filename().string() + ".XXXXXX")).string();
  FileDescriptor fd(::mkostemp(temporary.data(), O_CLOEXEC));
  if (fd.get() < 0) return ErrorFromErrno(errno, "create temporary file for", path);
  if (::fchmod(fd.get(), mode) != 0) {
    Error error = ErrorFromErrno(errno, "chmod", temporary);
    ::unlink(temporary.c_str());
    return error;
  }
  AtomicFileWriter writer(path, temporary);
  if (!*writer.stream_) return MakeError(ErrorCode::kIo, temporary + ": cannot open for writing");
  return writer;
}

Status AtomicFileWriter::Commit() {
  stream_->flush();
  if (!*stream_) return MakeError(ErrorCode::kIo, path_ + ": write failed (disk full?)");
  stream_->close();
  FileDescriptor fd(::open(temporary_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) return ErrorFromErrno(errno, "fsync", temporary_);
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
    return ErrorFromErrno(errno, "rename temporary file to", path_);
  }
  committed_ = true;
  std::filesystem::path target(path_);
  std::string directory = target.has_parent_path() ? target.parent_path().string() : ".";
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return OkStatus();
}

Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode) {
  ATTEST_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Create(path, mode));
  writer.stream().write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return writer.Commit();
}

Status CreateSecretFile(const std::string& path, ByteView contents) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrorFromErrno(errno, "create", path);
  // Nothing half-written survives a failure.
  auto fail = [&](Error error) {
    ::unlink(path.c_str());
    return error;
  };
  // O_CREAT's mode is filtered by the umask; make 0600 exact.
  if (::fchmod(fd.get(), 0600) != 0) return fail(ErrorFromErrno(errno, "chmod", path));
  if (Status written = WriteAll(fd.get(), contents, path); !written.ok()) {
    return fail(written.error());
  }
  if (::fsync(fd.get()) != 0) return fail(ErrorFromErrno(errno, "fsync", path));
  return OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

}  // namespace attest
