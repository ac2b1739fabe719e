// Recording the verdict on authenticated evidence (evidence the node's AK
// signed over an issued nonce): the node's new state, boot and runtime caches and TPM
// clock, a certificate issued or every certificate revoked, and the ledger
// events, in one commit; then the webhooks and metrics.
#pragma once

#include <optional>
#include <string>

#include "attest/verifier/certificate_authority.h"

#include "context.h"

namespace attest::service::api {

struct RecordedVerdict {
  NodeRecord node;  // as committed
  NodeState previous = NodeState::kEnrolled;
  bool recorded = false;  // false: the node changed meanwhile (re-enrolled, revoked)
  std::optional<verifier::IssuedCertificate> issued;
  std::string certificate_error;  // why a CSR got no certificate
  // Nothing was recorded: the challenge the evidence answers was redeemed
  // (or expired) meanwhile, by the database's judgement (PostgreSQL).
  std::optional<ChallengeOutcome> nonce_refused;
};

// The first failing reason's name, "" for a trusted verdict.
std::string FirstFailure(const verifier::Verdict& verdict);

// Commits the verdict for `node` (read before verification). A failure
// whose commit loses a race for the node's version is applied again to the
// node as it now is, unless that node no longer speaks with this AK or an
// operator took it out of attestation (pending, revoked): its certificates
// must not outlive the failure. `answer`: the challenge to redeem with the
// verdict (CommitAttestation), when the check left that to the commit.
Result<RecordedVerdict> RecordVerdict(Context& context, NodeRecord node,
                                      const verifier::Evidence& evidence,
                                      const verifier::Verdict& verdict, const Json& verdict_json,
                                      const verifier::AttestationKey& key,
                                      const verifier::Policy& policy, TimePoint now,
                                      std::optional<ChallengeAnswer> answer);

}  // namespace attest::service::api
