#include "challenge_book.h"

#include <algorithm>

#include <openssl/rand.h>

namespace attest::service::api {
namespace {

// How long past its expiry a challenge is remembered (for NONCE_EXPIRED and
// NONCE_REUSED instead of NONCE_UNKNOWN).
constexpr std::chrono::seconds kRemembered{300};

}  // namespace

IssuedChallenge ChallengeBook::Issue(const std::string& node_id, std::string_view requester,
                                     TimePoint now, std::chrono::seconds lifetime) {
  Bytes nonce(32);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) std::abort();
  std::lock_guard lock(mutex_);
  if (now - last_sweep_ > std::chrono::seconds(10)) Sweep(now);
  std::deque<Entry>& entries = by_node_[node_id];
  auto mine = [&](const Entry& entry) {
    return entry.requester == requester && entry.Outstanding(now);
  };
  if (static_cast<std::size_t>(std::ranges::count_if(entries, mine)) >= max_outstanding_) {
    entries.erase(std::ranges::find_if(entries, mine));
  }
  // Full: make room from what is only remembered (used or expired), oldest
  // first; else from the requester holding the most outstanding challenges.
  // Refusing instead would let strangers on enough addresses fill the book
  // and keep the node from attesting until its trust decays; this way a
  // requester holding fewer than the largest holder (the node, asking once
  // per interval) never loses a challenge to the others.
  if (entries.size() >= max_entries_) {
    auto remembered =
        std::ranges::find_if(entries, [&](const Entry& entry) { return !entry.Outstanding(now); });
    if (remembered == entries.end()) remembered = OldestOfLargestHolder(entries, now);
    entries.erase(remembered);
  }
  entries.push_back({nonce, std::string(requester), now + lifetime, false});
  return IssuedChallenge{nonce, now + lifetime};
}

std::deque<ChallengeBook::Entry>::iterator ChallengeBook::OldestOfLargestHolder(
    std::deque<Entry>& entries, TimePoint now) {
  std::unordered_map<std::string_view, std::size_t> held;
  std::string_view largest;
  std::size_t most = 0;
  for (const Entry& entry : entries) {
    if (!entry.Outstanding(now)) continue;
    std::size_t count = ++held[entry.requester];
    if (count > most) {
      most = count;
      largest = entry.requester;
    }
  }
  return std::ranges::find_if(entries, [&](const Entry& entry) {
    return entry.Outstanding(now) && entry.requester == largest;
  });
}

ChallengeOutcome ChallengeBook::Redeem(const std::string& node_id, ByteView nonce, TimePoint now) {
  std::lock_guard lock(mutex_);
  auto node = by_node_.find(node_id);
  if (node == by_node_.end()) return ChallengeOutcome::kUnknown;
  for (Entry& entry : node->second) {
    if (!ConstantTimeEquals(entry.nonce, nonce)) continue;
    if (entry.used) return ChallengeOutcome::kReused;
    entry.used = true;
    return entry.expires_at > now ? ChallengeOutcome::kValid : ChallengeOutcome::kExpired;
  }
  return ChallengeOutcome::kUnknown;
}

std::size_t ChallengeBook::outstanding() const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [node, entries] : by_node_) {
    count += static_cast<std::size_t>(
        std::ranges::count_if(entries, [](const Entry& entry) { return !entry.used; }));
  }
  return count;
}

void ChallengeBook::Sweep(TimePoint now) {
  last_sweep_ = now;
  for (auto node = by_node_.begin(); node != by_node_.end();) {
    std::erase_if(node->second,
                  [&](const Entry& entry) { return entry.expires_at + kRemembered < now; });
    node = node->second.empty() ? by_node_.erase(node) : std::next(node);
  }
}

verifier::ReasonCode ReasonFor(ChallengeOutcome outcome) {
  switch (outcome) {
    case ChallengeOutcome::kExpired:
      return verifier::ReasonCode::kNonceExpired;
    case ChallengeOutcome::kReused:
      return verifier::ReasonCode::kNonceReused;
    default:
      return verifier::ReasonCode::kNonceUnknown;
  }
}

}  // namespace attest::service::api
