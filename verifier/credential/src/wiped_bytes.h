// Key material for the duration of one call (seeds, derived keys, shared
// secrets): a fixed-size buffer wiped with OPENSSL_cleanse when it dies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include <openssl/crypto.h>

#include "attest/bytes.h"

namespace attest::verifier::internal {

class WipedBytes {
 public:
  explicit WipedBytes(std::size_t size) : bytes_(size, 0) {}
  WipedBytes(WipedBytes&& other) noexcept : bytes_(std::exchange(other.bytes_, {})) {}
  WipedBytes& operator=(WipedBytes&&) = delete;
  WipedBytes(const WipedBytes&) = delete;
  WipedBytes& operator=(const WipedBytes&) = delete;
  ~WipedBytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

  std::uint8_t* data() { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  ByteView view() const { return bytes_; }
  std::span<std::uint8_t> span() { return bytes_; }

 private:
  Bytes bytes_;  // never resized, so no copy is left behind in freed memory
};

}  // namespace attest::verifier::internal
