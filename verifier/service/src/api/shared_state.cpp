// What several verifiers on one PostgreSQL database share beyond the rows
// they read per request: the challenges (issued by one, answered at
// another, accepted once), and the periodic work that keeps each
// verifier's local view (trust deadlines, node counts, the policy in
// force) in step with the others' writes.
#include <iostream>

#include <openssl/rand.h>

#include "context.h"

namespace attest::service::api {
namespace {

// As ChallengeBook remembers used and expired challenges: a late answer
// reads NONCE_EXPIRED or NONCE_REUSED rather than NONCE_UNKNOWN.
constexpr std::chrono::seconds kChallengesKept{300};
constexpr std::size_t kTrustedPage = 500;

ChallengeOutcome OutcomeOf(ChallengeRedemption redemption) {
  switch (redemption) {
    case ChallengeRedemption::kValid:
      return ChallengeOutcome::kValid;
    case ChallengeRedemption::kExpired:
      return ChallengeOutcome::kExpired;
    case ChallengeRedemption::kReused:
      return ChallengeOutcome::kReused;
    case ChallengeRedemption::kUnknown:
      break;
  }
  return ChallengeOutcome::kUnknown;
}

}  // namespace

Result<IssuedChallenge> IssueNodeChallenge(Context& context, const std::string& node_id,
                                           std::string_view requester, TimePoint now,
                                           std::chrono::seconds lifetime) {
  if (!context.storage.is_postgres()) {
    return context.challenges.Issue(node_id, requester, now, lifetime);
  }
  Bytes nonce(32);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return MakeError(ErrorCode::kCrypto, "RAND_bytes failed for a challenge nonce");
  }
  // The database's clock sets the expiry every verifier judges it by.
  ATTEST_ASSIGN_OR_RETURN(
      TimePoint expires_at,
      context.store->RecordChallenge(node_id, nonce, requester, lifetime, ChallengeBounds{}));
  return IssuedChallenge{std::move(nonce), expires_at};
}

Result<ChallengeOutcome> RedeemNodeChallenge(Context& context, const std::string& node_id,
                                             ByteView nonce, TimePoint now) {
  if (!context.storage.is_postgres()) return context.challenges.Redeem(node_id, nonce, now);
  ATTEST_ASSIGN_OR_RETURN(ChallengeRedemption redemption,
                          context.store->RedeemChallenge(node_id, nonce));
  return OutcomeOf(redemption);
}

void RefreshSharedState(Context& context) {
  if (!context.storage.is_postgres()) return;
  // Events a drain left to another verifier's, should that one have
  // finished before they were committed.
  DrainLedger(context);
  if (Result<std::uint64_t> pruned = context.store->PruneChallenges(kChallengesKept);
      !pruned.ok()) {
    std::cerr << "verifier: prune challenges: " << pruned.error().ToString() << "\n";
  }
  // Nodes another verifier made trusted are this one's to expire too, should
  // that verifier stop: every trusted node's deadline, as the store has it.
  std::string after;
  for (;;) {
    Result<std::vector<TrustedNodeTime>> nodes =
        context.store->ListTrustedNodes(after, kTrustedPage);
    if (!nodes.ok()) {
      std::cerr << "verifier: refresh trust deadlines: " << nodes.error().ToString() << "\n";
      context.trust_deadlines.StoreUnreachable();
      return;
    }
    const TimePoint floor = context.trust_deadlines.StoreReachable(context.clock.Now());
    for (const TrustedNodeTime& node : *nodes) {
      context.trust_deadlines.Trusted(node.node_id, std::max(node.last_attested, floor),
                                      node.version);
    }
    if (nodes->size() < kTrustedPage) break;
    after = nodes->back().node_id;
  }
  if (auto counts = context.store->CountNodesByState(); counts.ok()) {
    context.metrics.SetNodes(*counts);
  }
  // A policy another verifier applied (InstallPolicy keeps the highest
  // serial). The store's row is what this verifier's own start trusts too.
  Result<std::optional<PolicyRecord>> policy = context.store->CurrentPolicy();
  if (!policy.ok()) {
    std::cerr << "verifier: refresh policy: " << policy.error().ToString() << "\n";
  } else if (*policy) {
    if (Status installed = InstallPolicy(context, **policy); !installed.ok()) {
      std::cerr << "verifier: refresh policy: " << installed.error().ToString() << "\n";
    }
  }
}

}  // namespace attest::service::api
