// The challenges the verifier issued and not yet seen answered, in memory
// (a restart voids them; nodes ask again). Each nonce is single use; a node
// has at most a few outstanding; expired ones are kept a while longer so a
// late answer reads NONCE_EXPIRED rather than NONCE_UNKNOWN. Thread safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/verifier/reasons.h"

namespace attest::service::api {

struct IssuedChallenge {
  Bytes nonce;
  TimePoint expires_at;
};

enum class ChallengeOutcome { kValid, kUnknown, kExpired, kReused };

class ChallengeBook {
 public:
  explicit ChallengeBook(std::size_t max_outstanding_per_node = 4)
      : max_outstanding_(max_outstanding_per_node) {}

  // 32 random bytes, valid for `lifetime`. Past the per-node bound the
  // oldest outstanding challenge of that node is dropped.
  IssuedChallenge Issue(const std::string& node_id, TimePoint now, std::chrono::seconds lifetime);
  // Consumes the nonce: valid once, then kReused.
  ChallengeOutcome Redeem(const std::string& node_id, ByteView nonce, TimePoint now);

  std::size_t outstanding() const;

 private:
  struct Entry {
    Bytes nonce;
    TimePoint expires_at;
    bool used = false;
  };
  void Sweep(TimePoint now);

  const std::size_t max_outstanding_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Entry>> by_node_;
  TimePoint last_sweep_{};
};

// NONCE_UNKNOWN etc. for a failed redemption.
verifier::ReasonCode ReasonFor(ChallengeOutcome outcome);

}  // namespace attest::service::api
