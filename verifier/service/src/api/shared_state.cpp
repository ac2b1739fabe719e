// What several verifiers on one PostgreSQL database share beyond the rows
// they read per request: the challenges (minted by one, answered at
// another, accepted once), and the periodic work that keeps each
// verifier's local view (trust deadlines, node counts, the policy in
// force) in step with the others' writes.
#include <iostream>

#include "challenge_nonce.h"
#include "context.h"

namespace attest::service::api {
namespace {

// Answered nonces are kept this long past their expiry; answered again
// meanwhile, they read NONCE_EXPIRED either way (expiry is checked first).
constexpr std::chrono::seconds kChallengesKept{60};
constexpr std::size_t kTrustedPage = 500;

std::int64_t MicrosSinceEpoch(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

}  // namespace

Result<IssuedChallenge> IssueNodeChallenge(Context& context, const NodeRecord& node,
                                           std::string_view requester, TimePoint now,
                                           std::chrono::seconds lifetime) {
  const std::string& node_id = node.node_id;
  if (!context.storage.is_postgres()) {
    return context.challenges.Issue(node_id, requester, now, lifetime);
  }
  if (!context.challenge_key) {
    return MakeError(ErrorCode::kInternal, "no challenge key is loaded");
  }
  // By the database's clock, which judges it when the nonce is answered.
  const TimePoint expires_at =
      now + std::chrono::microseconds(context.database_clock_ahead_micros.load()) + lifetime;
  ATTEST_ASSIGN_OR_RETURN(Bytes nonce,
                          MintChallengeNonce(context.challenge_key->view(), node_id, expires_at));
  context.minted_challenges.Remember(nonce, node_id, MintedRow{node.version, node.row_token});
  return IssuedChallenge{std::move(nonce), expires_at};
}

ChallengeOutcome OutcomeOf(ChallengeRedemption redemption) {
  switch (redemption) {
    case ChallengeRedemption::kValid:
      return ChallengeOutcome::kValid;
    case ChallengeRedemption::kExpired:
      return ChallengeOutcome::kExpired;
    case ChallengeRedemption::kReused:
      break;
  }
  return ChallengeOutcome::kReused;
}

Result<CheckedChallenge> CheckNodeChallenge(Context& context, const std::string& node_id,
                                            ByteView nonce, TimePoint now) {
  if (!context.storage.is_postgres()) {
    return CheckedChallenge{context.challenges.Redeem(node_id, nonce, now), std::nullopt};
  }
  if (!context.challenge_key) {
    return MakeError(ErrorCode::kInternal, "no challenge key is loaded");
  }
  std::optional<TimePoint> expires_at =
      OpenChallengeNonce(context.challenge_key->view(), node_id, nonce);
  if (!expires_at) return CheckedChallenge{ChallengeOutcome::kUnknown, std::nullopt};
  // Spares a verification for what the database would refuse anyway.
  if (*expires_at <= now + std::chrono::microseconds(context.database_clock_ahead_micros.load())) {
    return CheckedChallenge{ChallengeOutcome::kExpired, std::nullopt};
  }
  return CheckedChallenge{ChallengeOutcome::kValid,
                          ChallengeAnswer{Bytes(nonce.begin(), nonce.end()), *expires_at}};
}

Status MeasureDatabaseClock(Context& context) {
  // The database read its clock somewhere within each round trip: the
  // shortest of a few says best where. One slowed by a wait (for a pooled
  // connection, a reconnect) would put expiries late: none is taken past
  // kClockSampleLimit.
  constexpr int kSamples = 3;
  constexpr std::chrono::milliseconds kClockSampleLimit{50};
  std::optional<std::chrono::system_clock::duration> best_round_trip;
  std::int64_t best_ahead = 0;
  for (int sample = 0; sample < kSamples; ++sample) {
    const TimePoint before = context.clock.Now();
    ATTEST_ASSIGN_OR_RETURN(TimePoint database_now, context.store->DatabaseNow());
    const TimePoint after = context.clock.Now();
    const auto round_trip = after - before;
    if (round_trip > kClockSampleLimit || (best_round_trip && round_trip >= *best_round_trip)) {
      continue;
    }
    best_round_trip = round_trip;
    const std::int64_t here = MicrosSinceEpoch(before) / 2 + MicrosSinceEpoch(after) / 2;
    best_ahead = MicrosSinceEpoch(database_now) - here;
  }
  if (!best_round_trip) {
    return MakeError(ErrorCode::kBusy, "every reading of the database's clock took over " +
                                           std::to_string(kClockSampleLimit.count()) + " ms");
  }
  context.database_clock_ahead_micros.store(best_ahead);
  return OkStatus();
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
  if (Status measured = MeasureDatabaseClock(context); !measured.ok()) {
    std::cerr << "verifier: read the database's clock: " << measured.error().ToString() << "\n";
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
