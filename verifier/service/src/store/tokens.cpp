// API tokens: "vt_" + 16 hex (the id, 8 random bytes) + "_" + 43 base64url
// characters (the secret, 32 random bytes, unpadded). The secret's SHA-256
// is what the store keeps.
#include "attest/service/tokens.h"

#include <array>
#include <cstdlib>

#include <openssl/rand.h>

#include "attest/encoding.h"
#include "attest/sha256.h"

namespace attest::service {
namespace {

constexpr std::string_view kPrefix = "vt_";
constexpr std::size_t kIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kIdChars = 2 * kIdBytes;
constexpr std::size_t kSecretChars = (kSecretBytes * 8 + 5) / 6;  // 43, unpadded
constexpr std::size_t kTokenChars = kPrefix.size() + kIdChars + 1 + kSecretChars;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// A token without entropy would be a guessable admin credential: there is
// no safe way to go on, as with a hash that cannot be computed.
template <std::size_t N>
std::array<std::uint8_t, N> RandomBytes() {
  std::array<std::uint8_t, N> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) std::abort();
  return bytes;
}

std::string Base64UrlUnpadded(ByteView bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

// Exactly kSecretBytes from kSecretChars characters; nullopt for another
// alphabet or a last character with bits beyond the 256 (a non-canonical
// spelling of the same secret is refused, not accepted twice).
std::optional<std::array<std::uint8_t, kSecretBytes>> DecodeSecret(std::string_view text) {
  if (text.size() != kSecretChars) return std::nullopt;
  std::array<std::uint8_t, kSecretBytes> out{};
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t written = 0;
  for (char c : text) {
    std::size_t value = kAlphabet.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (written == out.size()) return std::nullopt;
      out[written++] = static_cast<std::uint8_t>(buffer >> bits);
    }
  }
  if (written != out.size() || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

NewToken GenerateToken(Role role, std::string_view label, TimePoint now) {
  auto id = RandomBytes<kIdBytes>();
  auto secret = RandomBytes<kSecretBytes>();
  NewToken created;
  created.record.token_id = HexEncode(id);
  created.record.role = role;
  created.record.label = std::string(label);
  Sha256Digest digest = Sha256Of(secret);
  created.record.secret_digest.assign(digest.begin(), digest.end());
  created.record.created_at = now;
  created.token = std::string(kPrefix) + created.record.token_id + "_" + Base64UrlUnpadded(secret);
  return created;
}

std::optional<PresentedToken> ParseToken(std::string_view token) {
  if (token.size() != kTokenChars || token.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  std::string_view id = token.substr(kPrefix.size(), kIdChars);
  if (!IsLowerHex(id) || token[kPrefix.size() + kIdChars] != '_') return std::nullopt;
  auto secret = DecodeSecret(token.substr(kPrefix.size() + kIdChars + 1));
  if (!secret) return std::nullopt;
  PresentedToken presented;
  presented.token_id = std::string(id);
  Sha256Digest digest = Sha256Of(*secret);
  presented.secret_digest.assign(digest.begin(), digest.end());
  return presented;
}

bool TokenMatches(const TokenRecord& record, const PresentedToken& presented) {
  if (record.revoked_at) return false;
  // The id is public: comparing it in ordinary time gives nothing away. The
  // digests are compared in constant time (CRYPTO_memcmp underneath).
  const bool id_matches = record.token_id == presented.token_id;
  const bool secret_matches = record.secret_digest.size() == 32 &&
                              ConstantTimeEquals(record.secret_digest, presented.secret_digest);
  return id_matches && secret_matches;
}

}  // namespace attest::service
