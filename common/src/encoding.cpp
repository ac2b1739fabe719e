#include "attest/encoding.h"

#include <array>
#include <cstdint>
#include <optional>

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

// The RFC 4648 §4 alphabet's values, shifted to where a character at
// position 0..3 of a group puts its six bits in the group's 24-bit word.
// Anything outside the alphabet sets bit 24, which no valid group reaches,
// so one OR over a whole input finds a bad character anywhere.
constexpr std::uint32_t kBase64Invalid = std::uint32_t{1} << 24;
using Base64Table = std::array<std::uint32_t, 256>;

constexpr Base64Table Base64Values(unsigned shift) {
  Base64Table values{};
  values.fill(kBase64Invalid);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint32_t>(i) << shift;
  }
  return values;
}
constexpr std::array<Base64Table, 4> kBase64Values = {Base64Values(18), Base64Values(12),
                                                      Base64Values(6), Base64Values(0)};

std::uint32_t Base64Group(const unsigned char* in) {
  return kBase64Values[0][in[0]] | kBase64Values[1][in[1]] | kBase64Values[2][in[2]] |
         kBase64Values[3][in[3]];
}

void StoreGroup(std::uint32_t word, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(word >> 16);
  out[1] = static_cast<std::uint8_t>(word >> 8);
  out[2] = static_cast<std::uint8_t>(word);
}

Error InvalidBase64() {
  return MakeError(ErrorCode::kInvalidArgument, "not valid base64 (RFC 4648, padded)");
}

}  // namespace

std::optional<std::size_t> Base64DecodedSize(std::string_view base64) {
  if (base64.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!base64.empty() && base64.back() == '=') padding = base64[base64.size() - 2] == '=' ? 2 : 1;
  return base64.size() / 4 * 3 - padding;
}

// Table-driven, so its timing depends on the input: base64 here only ever
// carries public data (quotes, logs, public keys, signatures). One pass:
// the full groups are decoded without a branch on their content, and any
// bad character is found from the OR of all their words at the end.
Status Base64DecodeInto(std::string_view base64, std::span<std::uint8_t> out) {
  std::optional<std::size_t> size = Base64DecodedSize(base64);
  if (!size || *size != out.size()) return InvalidBase64();
  const std::size_t padding = base64.size() / 4 * 3 - *size;
  const auto* in = reinterpret_cast<const unsigned char*>(base64.data());
  std::uint8_t* to = out.data();
  const std::size_t full_groups = base64.size() / 4 - (padding > 0 ? 1 : 0);
  std::uint32_t seen = 0;
  std::size_t group = 0;
  for (; group + 2 <= full_groups; group += 2, in += 8, to += 6) {
    const std::uint32_t first = Base64Group(in);
    const std::uint32_t second = Base64Group(in + 4);
    seen |= first | second;
    StoreGroup(first, to);
    StoreGroup(second, to + 3);
  }
  if (group < full_groups) {
    const std::uint32_t word = Base64Group(in);
    seen |= word;
    StoreGroup(word, to);
    in += 4;
    to += 3;
  }
  if ((seen & kBase64Invalid) != 0) return InvalidBase64();
  if (padding > 0) {
    // '=' is outside the alphabet: one where a character belongs ("Z===")
    // is invalid here, as it is in a full group ("Zm=v").
    const std::uint32_t c = padding == 1 ? kBase64Values[2][in[2]] : 0;
    const std::uint32_t word = kBase64Values[0][in[0]] | kBase64Values[1][in[1]] | c;
    if ((word & kBase64Invalid) != 0) return InvalidBase64();
    // One byte string, one encoding: the bits the padding hides must be 0.
    if ((word & (padding == 2 ? 0xffffu : 0xffu)) != 0) {
      return MakeError(ErrorCode::kInvalidArgument, "base64 is not in canonical form");
    }
    to[0] = static_cast<std::uint8_t>(word >> 16);
    if (padding == 1) to[1] = static_cast<std::uint8_t>(word >> 8);
  }
  return OkStatus();
}

Result<Bytes> Base64Decode(std::string_view base64) {
  std::optional<std::size_t> size = Base64DecodedSize(base64);
  if (!size) return InvalidBase64();
  Bytes bytes(*size);
  ATTEST_RETURN_IF_ERROR(Base64DecodeInto(base64, bytes));
  return bytes;
}

}  // namespace attest
