// The challenges the verifier issued and not yet seen answered, in memory
// (a restart voids them; nodes ask again). Each nonce is single use; each
// requester (client address) holds at most a few outstanding per node, and
// one requester's challenges never push out another's, so a stranger asking
// for a node's challenges cannot void the node's own. Expired and used ones
// are kept a while longer so a late answer reads NONCE_EXPIRED rather than
// NONCE_UNKNOWN. Thread safe; bounded per node (node ids are enrolled ones).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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
  explicit ChallengeBook(std::size_t max_outstanding_per_requester = 4,
                         std::size_t max_entries_per_node = 256)
      : max_outstanding_(max_outstanding_per_requester), max_entries_(max_entries_per_node) {}

  // 32 random bytes, valid for `lifetime`. Past the bound per requester the
  // oldest outstanding challenge of that requester for that node is
  // dropped; past the bound per node, a remembered (used or expired) one,
  // else the oldest of the requester holding the most.
  IssuedChallenge Issue(const std::string& node_id, std::string_view requester, TimePoint now,
                        std::chrono::seconds lifetime);
  // Consumes the nonce, whoever asked for it: valid once, then kReused.
  ChallengeOutcome Redeem(const std::string& node_id, ByteView nonce, TimePoint now);

  std::size_t outstanding() const;

 private:
  struct Entry {
    Bytes nonce;
    std::string requester;
    TimePoint expires_at;
    bool used = false;
    bool Outstanding(TimePoint now) const { return !used && expires_at > now; }
  };
  void Sweep(TimePoint now);
  // Some outstanding entry exists (the book is full of them).
  static std::deque<Entry>::iterator OldestOfLargestHolder(std::deque<Entry>& entries,
                                                           TimePoint now);

  const std::size_t max_outstanding_;
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Entry>> by_node_;
  TimePoint last_sweep_{};
};

// NONCE_UNKNOWN etc. for a failed redemption.
verifier::ReasonCode ReasonFor(ChallengeOutcome outcome);

}  // namespace attest::service::api
