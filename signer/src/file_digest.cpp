#include "attest/signer/file_digest.h"

#include <cerrno>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"

namespace attest::signer {
namespace {}  // namespace

Result<FileDigest> HashFileStreaming(const std::string& path, bool follow_symlinks) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer before we refuse it.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow_symlinks ? 0 : O_NOFOLLOW);
  FileDescriptor fd(::open(path.c_str(), flags));
  if (fd.get() < 0) {
    if (errno == ELOOP && !follow_symlinks) {
      return MakeError(ErrorCode::kInvalidArgument, path + ": is a symlink (not followed)");
    }
    return ErrorFromErrno(errno, "open", path);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrorFromErrno(errno, "stat", path);
  if (!S_ISREG(info.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ": not a regular file (only regular files can be signed)");
  }
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<std::uint8_t> buffer(kHashBufferBytes);
  Sha256 hasher;
  FileDigest digest;
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrorFromErrno(errno, "read", path);
    }
    if (n == 0) break;
    hasher.Update(ByteView(buffer.data(), static_cast<std::size_t>(n)));
    digest.size += static_cast<std::uint64_t>(n);
  }
  digest.sha256 = hasher.Finish();
  return digest;
}

}  // namespace attest::signer
