// How an attestation's outcome reaches the store: a routine one (trusted
// and still trusted, nothing but the node's last_* fields and boot cache
// changed) as the store's RecordRoutineUpdate, anything else as a Commit.
#pragma once

#include "context.h"

namespace attest::service::api {

// What committing an attestation did: committed, or nothing at all
// because the challenge it answers was redeemed or expired meanwhile.
struct AttestationCommit {
  CommitResult result;
  std::optional<ChallengeOutcome> nonce_refused;
};

// Redeems `answer` on its own, durably, and resets it: nullopt when the
// redemption was valid, else the outcome that refuses the evidence.
Result<std::optional<ChallengeOutcome>> RedeemAnswer(Context& context, const std::string& node_id,
                                                     std::optional<ChallengeAnswer>& answer);

// `change` as the attestation built it; `previous` the node's state when it
// was read. Routine only when the node stays trusted and the change carries
// no event, certificate, revocation or other record. `answer` (PostgreSQL),
// the challenge the evidence answers, is redeemed with a routine update in
// its transaction, or on its own before any other commit; it is reset once
// redeemed, so a commit tried again does not redeem it twice.
Result<AttestationCommit> CommitAttestation(Context& context, const StoreChange& change,
                                            NodeState previous,
                                            std::optional<ChallengeAnswer>& answer);

}  // namespace attest::service::api
