// Byte building for the tpm/ unit tests: TPM structures written out by hand,
// and key parameters read back from OpenSSL to compare against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "attest/bytes.h"
#include "attest/encoding.h"
#include "attest/openssl.h"

namespace attest::tpm::test_bytes {

inline Bytes Hex(std::string_view text) { return HexDecode(text).value(); }

inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

inline Bytes U16(std::size_t value) {
  return {static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value & 0xff)};
}

// A TPM2B: its size, then the bytes.
inline Bytes Sized(const Bytes& bytes) { return Cat({U16(bytes.size()), bytes}); }

// A key's big-number parameter (RSA n, EC x/y) as minimal big-endian bytes.
inline Bytes KeyParameter(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &raw), 1) << name;
  BignumPtr number(raw);
  Bytes out(static_cast<std::size_t>(BN_num_bytes(number.get())));
  BN_bn2bin(number.get(), out.data());
  return out;
}

}  // namespace attest::tpm::test_bytes
