// Streaming SHA-256 of a file: constant memory whatever its size.
#pragma once

#include <cstdint>
#include <string>

#include "attest/error.h"
#include "attest/sha256.h"

namespace attest::signer {

struct FileDigest {
  Sha256Digest sha256{};
  std::uint64_t size = 0;
};

inline constexpr std::size_t kHashBufferBytes = std::size_t{64} * 1024;

// Hashes a regular file in kHashBufferBytes chunks. Refuses anything else
// (directory, FIFO, device) with kInvalidArgument. With `follow_symlinks`
// false, a symlink is refused too (O_NOFOLLOW). Errors name the path.
Result<FileDigest> HashFileStreaming(const std::string& path, bool follow_symlinks = true);

}  // namespace attest::signer
