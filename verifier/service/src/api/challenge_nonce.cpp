// MintChallengeNonce and OpenChallengeNonce (challenge_nonce.h).
#include "challenge_nonce.h"

#include <array>
#include <chrono>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "attest/file.h"

namespace attest::service::api {
namespace {

constexpr std::size_t kRandomBytes = 12;
constexpr std::size_t kExpiryBytes = 8;
constexpr std::size_t kTagBytes = 12;
static_assert(kRandomBytes + kExpiryBytes + kTagBytes == kChallengeNonceBytes);
// Separates these MACs from any other use of the key, and this layout from
// a later one.
constexpr std::string_view kTagLabel = "attest verifier challenge v1";

Result<std::array<std::uint8_t, EVP_MAX_MD_SIZE>> ChallengeTag(ByteView key,
                                                               std::string_view node_id,
                                                               ByteView random_and_expiry) {
  Bytes message;
  message.reserve(kTagLabel.size() + 1 + node_id.size() + 1 + random_and_expiry.size());
  message.insert(message.end(), kTagLabel.begin(), kTagLabel.end());
  message.push_back(0);
  message.insert(message.end(), node_id.begin(), node_id.end());
  message.push_back(0);
  message.insert(message.end(), random_and_expiry.begin(), random_and_expiry.end());
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> tag{};
  unsigned int tag_size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
           tag.data(), &tag_size) == nullptr ||
      tag_size < kTagBytes) {
    return MakeError(ErrorCode::kCrypto, "HMAC-SHA256 of a challenge nonce failed");
  }
  return tag;
}

}  // namespace

Status CreateChallengeKey(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes key, SecretBytes::Allocate(kChallengeKeyBytes));
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return MakeError(ErrorCode::kCrypto, "RAND_bytes failed for the challenge key");
  }
  return CreateSecretFile(path, key.view());
}

Result<SecretBytes> LoadChallengeKey(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes key, ReadSecretFile(path, kChallengeKeyBytes + 1));
  if (key.size() != kChallengeKeyBytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ": holds " + std::to_string(key.size()) + " bytes, not the " +
                         std::to_string(kChallengeKeyBytes) + " of a challenge key");
  }
  return key;
}

Result<Bytes> MintChallengeNonce(ByteView key, std::string_view node_id, TimePoint expires_at) {
  Bytes nonce(kChallengeNonceBytes);
  if (RAND_bytes(nonce.data(), static_cast<int>(kRandomBytes)) != 1) {
    return MakeError(ErrorCode::kCrypto, "RAND_bytes failed for a challenge nonce");
  }
  const auto micros = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(expires_at.time_since_epoch()).count());
  for (std::size_t i = 0; i < kExpiryBytes; ++i) {
    nonce[kRandomBytes + i] = static_cast<std::uint8_t>(micros >> (8 * (kExpiryBytes - 1 - i)));
  }
  ATTEST_ASSIGN_OR_RETURN(
      auto tag, ChallengeTag(key, node_id, ByteView(nonce.data(), kRandomBytes + kExpiryBytes)));
  std::memcpy(nonce.data() + kRandomBytes + kExpiryBytes, tag.data(), kTagBytes);
  return nonce;
}

std::optional<TimePoint> OpenChallengeNonce(ByteView key, std::string_view node_id,
                                            ByteView nonce) {
  if (nonce.size() != kChallengeNonceBytes) return std::nullopt;
  Result<std::array<std::uint8_t, EVP_MAX_MD_SIZE>> tag =
      ChallengeTag(key, node_id, nonce.first(kRandomBytes + kExpiryBytes));
  if (!tag.ok() ||
      CRYPTO_memcmp(tag->data(), nonce.data() + kRandomBytes + kExpiryBytes, kTagBytes) != 0) {
    return std::nullopt;
  }
  std::uint64_t micros = 0;
  for (std::size_t i = 0; i < kExpiryBytes; ++i) micros = (micros << 8) | nonce[kRandomBytes + i];
  if (micros > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return TimePoint(std::chrono::microseconds(static_cast<std::int64_t>(micros)));
}

void MintedChallenges::Remember(ByteView nonce, std::string_view node_id, MintedRow row) {
  std::string key(nonce.begin(), nonce.end());
  std::lock_guard lock(mutex_);
  if (entries_.count(key) != 0) return;
  while (entries_.size() >= capacity_ && !oldest_first_.empty()) {
    entries_.erase(oldest_first_.front());
    oldest_first_.pop_front();
  }
  oldest_first_.push_back(key);
  entries_.emplace(std::move(key),
                   Entry{std::string(node_id), row, std::prev(oldest_first_.end())});
}

std::optional<MintedRow> MintedChallenges::Take(ByteView nonce, std::string_view node_id) {
  const std::string key(nonce.begin(), nonce.end());
  std::lock_guard lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end()) return std::nullopt;
  // Evidence posted for another node leaves the record to its own.
  if (found->second.node_id != node_id) return std::nullopt;
  const MintedRow row = found->second.row;
  oldest_first_.erase(found->second.age);
  entries_.erase(found);
  return row;
}

}  // namespace attest::service::api
