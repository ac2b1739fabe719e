// Secret bytes (private keys, passphrases, derived keys and seeds: the
// project's one secret type) live in libsodium's guarded heap: locked in
// RAM, surrounded by guard pages, wiped when freed. Never copy them into a
// std::string or a log line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest {

// Initializes libsodium once per process; safe to call from any thread.
Status EnsureSodium();

// Move-only owner of a guarded allocation. Thread-compatible.
class SecretBytes {
 public:
  static Result<SecretBytes> Allocate(std::size_t size);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  ByteView view() const { return {data_, size_}; }
  std::span<std::uint8_t> span() { return {data_, size_}; }
  // Shrinks the visible size (the allocation stays and is wiped on free).
  void Truncate(std::size_t size);

 private:
  SecretBytes(std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace attest
