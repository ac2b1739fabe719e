// TPM wire form through tss2-mu: one Marshal and one strict Unmarshal for
// every structure, so no TPM structure is ever laid out by hand here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <tss2/tss2_mu.h>

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest::tpm {

namespace internal {
Error UnmarshalError(std::string_view type_name, std::uint32_t rc, std::size_t size);
Error TrailingBytesError(std::string_view type_name, std::size_t used, std::size_t size);
}  // namespace internal

// The marshaled form of `value`. tss2-mu never writes more than sizeof(T)
// bytes for a TPM structure (the in-memory form is the maximal one).
template <typename T>
Bytes Marshal(const T& value,
              std::uint32_t (*marshal)(const T*, std::uint8_t*, std::size_t, std::size_t*)) {
  Bytes buffer(sizeof(T) + 16);
  std::size_t offset = 0;
  if (marshal(&value, buffer.data(), buffer.size(), &offset) != 0) return {};
  buffer.resize(offset);
  return buffer;
}

// Parses exactly `bytes` as one T: a short buffer, a field out of range and
// trailing bytes are all errors (kCorrupt) naming the type.
template <typename T>
Result<T> Unmarshal(ByteView bytes,
                    std::uint32_t (*unmarshal)(const std::uint8_t*, std::size_t, std::size_t*, T*),
                    std::string_view type_name) {
  T value{};
  std::size_t offset = 0;
  std::uint32_t rc = unmarshal(bytes.data(), bytes.size(), &offset, &value);
  if (rc != 0) return internal::UnmarshalError(type_name, rc, bytes.size());
  if (offset != bytes.size()) return internal::TrailingBytesError(type_name, offset, bytes.size());
  return value;
}

}  // namespace attest::tpm
