#include "attest/secret.h"

#include <utility>

#include <sodium.h>

namespace attest {

Status EnsureSodium() {
  static const int result = sodium_init();
  if (result < 0) return MakeError(ErrorCode::kCrypto, "libsodium failed to initialize");
  return OkStatus();
}

Result<SecretBytes> SecretBytes::Allocate(std::size_t size) {
  ATTEST_RETURN_IF_ERROR(EnsureSodium());
  // sodium_malloc(0) is valid but returns a pointer we must still free.
  void* memory = sodium_malloc(size == 0 ? 1 : size);
  if (memory == nullptr) {
    return MakeError(ErrorCode::kInternal, "cannot allocate guarded memory for a secret");
  }
  return SecretBytes(static_cast<std::uint8_t*>(memory), size);
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  if (data_ != nullptr) sodium_free(data_);  // wipes before unmapping
}

void SecretBytes::Truncate(std::size_t size) {
  if (size < size_) {
    sodium_memzero(data_ + size, size_ - size);
    size_ = size;
  }
}

}  // namespace attest
