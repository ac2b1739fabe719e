#include "attest/encoding.h"

#include <array>
#include <cstdint>

#include <sodium.h>

namespace attest {
namespace {

// Digit values, -1 for non-digits; `lowercase_only` leaves A-F out.
constexpr std::array<std::int16_t, 256> HexTable(bool lowercase_only) {
  std::array<std::int16_t, 256> table{};
  for (auto& value : table) value = -1;
  for (int c = '0'; c <= '9'; ++c)
    table[static_cast<std::size_t>(c)] = static_cast<std::int16_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c)
    table[static_cast<std::size_t>(c)] = static_cast<std::int16_t>(c - 'a' + 10);
  if (!lowercase_only) {
    for (int c = 'A'; c <= 'F'; ++c)
      table[static_cast<std::size_t>(c)] = static_cast<std::int16_t>(c - 'A' + 10);
  }
  return table;
}
constexpr std::array<std::int16_t, 256> kAnyCaseHex = HexTable(false);
constexpr std::array<std::int16_t, 256> kLowercaseHex = HexTable(true);

int HexValue(char c) { return kAnyCaseHex[static_cast<unsigned char>(c)]; }

}  // namespace

std::string HexEncode(ByteView bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string hex(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    hex[2 * i] = kDigits[bytes[i] >> 4];
    hex[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
  return hex;
}

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "hex string has an odd number of digits (" + std::to_string(hex.size()) + ")");
  }
  Bytes bytes(hex.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    int high = HexValue(hex[2 * i]);
    int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "hex string has a non-hex character at offset " +
                           std::to_string(high < 0 ? 2 * i : 2 * i + 1));
    }
    bytes[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  return bytes;
}

bool DecodeLowercaseHex(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  int invalid = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = static_cast<int>(kLowercaseHex[static_cast<unsigned char>(hex[2 * i])]);
    const int low = static_cast<int>(kLowercaseHex[static_cast<unsigned char>(hex[2 * i + 1])]);
    invalid |= high | low;  // any -1 sets the sign bit
    out[i] = static_cast<std::uint8_t>(((high & 0x0f) << 4) | (low & 0x0f));
  }
  return invalid >= 0;
}

std::string Base64Encode(ByteView bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(), kVariant);
  text.pop_back();  // the terminating NUL libsodium writes
  return text;
}

Result<Bytes> Base64Decode(std::string_view base64) {
  Bytes bytes(base64.size() / 4 * 3 + 3);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bytes.data(), bytes.size(), base64.data(), base64.size(), nullptr, &length,
                        &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != base64.data() + base64.size()) {
    return MakeError(ErrorCode::kInvalidArgument, "not valid base64 (RFC 4648, padded)");
  }
  bytes.resize(length);
  // One byte string, one encoding: reject non-zero padding bits.
  if (Base64Encode(bytes) != base64) {
    return MakeError(ErrorCode::kInvalidArgument, "base64 is not in canonical form");
  }
  return bytes;
}

}  // namespace attest
