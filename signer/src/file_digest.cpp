#include "attest/signer/file_digest.h"

#include <cerrno>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "attest/file.h"

namespace attest::signer {

Result<FileDigest> HashFileStreaming(const std::string& path, bool follow_symlinks) {
  // OpenRegularFile refuses a directory, FIFO or device before reading.
  ATTEST_ASSIGN_OR_RETURN(FileDescriptor fd, OpenRegularFile(path, follow_symlinks));
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
