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

namespace {

// 0..63 for the RFC 4648 §4 alphabet, 0xff for anything else.
constexpr std::array<std::uint8_t, 256> Base64Values() {
  std::array<std::uint8_t, 256> values{};
  values.fill(0xff);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return values;
}
constexpr std::array<std::uint8_t, 256> kBase64Values = Base64Values();

}  // namespace

// Table-driven, so its timing depends on the input: base64 here only ever
// carries public data (quotes, logs, public keys, signatures).
Result<Bytes> Base64Decode(std::string_view base64) {
  auto invalid = [] {
    return MakeError(ErrorCode::kInvalidArgument, "not valid base64 (RFC 4648, padded)");
  };
  if (base64.size() % 4 != 0) return invalid();
  std::size_t padding = 0;
  if (!base64.empty() && base64.back() == '=') padding = base64[base64.size() - 2] == '=' ? 2 : 1;
  Bytes bytes(base64.size() / 4 * 3 - padding);
  std::uint8_t* out = bytes.data();
  const auto* in = reinterpret_cast<const unsigned char*>(base64.data());
  std::size_t full_groups = base64.size() / 4 - (padding > 0 ? 1 : 0);
  for (std::size_t group = 0; group < full_groups; ++group, in += 4, out += 3) {
    std::uint8_t a = kBase64Values[in[0]];
    std::uint8_t b = kBase64Values[in[1]];
    std::uint8_t c = kBase64Values[in[2]];
    std::uint8_t d = kBase64Values[in[3]];
    if ((a | b | c | d) == 0xff) return invalid();
    std::uint32_t word = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) |
                         (std::uint32_t{c} << 6) | std::uint32_t{d};
    out[0] = static_cast<std::uint8_t>(word >> 16);
    out[1] = static_cast<std::uint8_t>(word >> 8);
    out[2] = static_cast<std::uint8_t>(word);
  }
  if (padding > 0) {
    std::uint8_t a = kBase64Values[in[0]];
    std::uint8_t b = kBase64Values[in[1]];
    std::uint8_t c = padding == 1 ? kBase64Values[in[2]] : 0;
    if ((a | b | c) == 0xff) return invalid();
    // One byte string, one encoding: the bits the padding hides must be 0.
    if ((padding == 2 && (b & 0x0f) != 0) || (padding == 1 && (c & 0x03) != 0)) {
      return MakeError(ErrorCode::kInvalidArgument, "base64 is not in canonical form");
    }
    out[0] = static_cast<std::uint8_t>((a << 2) | (b >> 4));
    if (padding == 1) out[1] = static_cast<std::uint8_t>((b << 4) | (c >> 2));
  }
  return bytes;
}

}  // namespace attest
