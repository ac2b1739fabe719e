// Challenge nonces any verifier on one database can check without having
// stored them (issue 14): each names its node and expiry under an HMAC
// with the key every verifier of the deployment holds (challenge.key in
// the state directory, copied like the CA key). Issuing one costs the
// database nothing; answering one stores it once under a unique key
// (ServiceStore::RedeemChallenge).
//
// Layout, 32 bytes: random (12) || expiry, microseconds since the epoch by
// the database's clock, big-endian (8) || the first 12 bytes of
// HMAC-SHA256(key, label || node id || random || expiry).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/error.h"
#include "attest/secret.h"

namespace attest::service::api {

inline constexpr std::size_t kChallengeKeyBytes = 32;
inline constexpr std::size_t kChallengeNonceBytes = 32;

// A new key file at `path` (0600; kAlreadyExists if one is there).
Status CreateChallengeKey(const std::string& path);
// The key file, which must be 32 bytes, owned by us and private.
Result<SecretBytes> LoadChallengeKey(const std::string& path);

Result<Bytes> MintChallengeNonce(ByteView key, std::string_view node_id, TimePoint expires_at);
// The expiry the nonce names, when it is one this key minted for this
// node; nullopt for anything else (NONCE_UNKNOWN). Constant time in the tag.
std::optional<TimePoint> OpenChallengeNonce(ByteView key, std::string_view node_id, ByteView nonce);

// Which node row a challenge was minted against: its version and the
// write that made it (NodeRecord::row_token).
struct MintedRow {
  std::int64_t version = 0;
  std::int64_t row_token = 0;
};

// The node row each challenge this verifier minted was issued against, so
// the evidence answering it is verified against the row the challenge told
// the node about (ServiceStore::GetNodeAsRead), and refused unjudged when
// that row has changed since. Bounded, oldest forgotten first: their
// evidence reads the row. Thread-safe.
class MintedChallenges {
 public:
  explicit MintedChallenges(std::size_t capacity = 16384) : capacity_(capacity) {}
  void Remember(ByteView nonce, std::string_view node_id, MintedRow row);
  // The row `nonce` was minted against, when it was for `node_id`;
  // forgotten then (an answer comes once; a replay reads the row). Put back
  // by Remember when the answer was refused unjudged.
  std::optional<MintedRow> Take(ByteView nonce, std::string_view node_id);

 private:
  struct Entry {
    std::string node_id;
    MintedRow row;
    std::list<std::string>::iterator age;
  };
  const std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // by nonce bytes; guarded by mutex_
  std::list<std::string> oldest_first_;
};

}  // namespace attest::service::api
