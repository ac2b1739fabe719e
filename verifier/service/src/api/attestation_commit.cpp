// A routine attestation is most of the service's writes in steady state;
// recording it without an fsync of its own is what lets the service go past
// one fsync per attestation (store.h, RecordRoutineUpdate: what a power
// loss may take and why that is acceptable). Anything that changes what
// the verifier vouches for stays a durable Commit.
#include "attestation_commit.h"

namespace attest::service::api {
namespace {

bool IsRoutine(const StoreChange& change, NodeState previous) {
  return change.node && previous == NodeState::kTrusted &&
         change.node->state == NodeState::kTrusted && !change.enrollment &&
         change.new_certificates.empty() && !change.revoke_certificates_of && !change.token &&
         !change.policy && change.events.empty();
}

}  // namespace

Result<std::optional<ChallengeOutcome>> RedeemAnswer(Context& context, const std::string& node_id,
                                                     std::optional<ChallengeAnswer>& answer) {
  ATTEST_ASSIGN_OR_RETURN(
      ChallengeRedemption redemption,
      context.store->RedeemChallenge(node_id, answer->nonce, answer->expires_at));
  answer.reset();
  if (redemption == ChallengeRedemption::kValid) return std::optional<ChallengeOutcome>();
  return std::optional<ChallengeOutcome>(OutcomeOf(redemption));
}

Result<AttestationCommit> CommitAttestation(Context& context, const StoreChange& change,
                                            NodeState previous,
                                            std::optional<ChallengeAnswer>& answer) {
  const bool routine = IsRoutine(change, previous);
  if (answer) {
    if (routine) {
      ATTEST_ASSIGN_OR_RETURN(ChallengeRedemption redemption,
                              context.store->RecordAnsweredRoutineUpdate(
                                  *change.node, answer->nonce, answer->expires_at));
      answer.reset();
      if (redemption == ChallengeRedemption::kValid) return AttestationCommit{};
      return AttestationCommit{CommitResult{}, OutcomeOf(redemption)};
    }
    // A state change: its commit stays the one Commit; the answer goes
    // first, durably, so it cannot be used again whatever follows.
    ATTEST_ASSIGN_OR_RETURN(std::optional<ChallengeOutcome> refused,
                            RedeemAnswer(context, change.node->node_id, answer));
    if (refused) return AttestationCommit{CommitResult{}, refused};
  }
  if (!routine) {
    ATTEST_ASSIGN_OR_RETURN(CommitResult committed, CommitChange(context, change));
    return AttestationCommit{std::move(committed), std::nullopt};
  }
  // No state changed, so the node gauges (CommitChange recounts them) stand.
  ATTEST_RETURN_IF_ERROR(context.store->RecordRoutineUpdate(*change.node));
  return AttestationCommit{};
}

}  // namespace attest::service::api
