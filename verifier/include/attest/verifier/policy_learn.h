// `verifier policy learn`: a draft policy from one node's known-good
// evidence, for an admin to review and sign (FORMAT.md §2).
#pragma once

#include "attest/error.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/policy.h"

namespace attest::verifier {

// The evidence must stand on its own first: signed by `attestation_key`,
// PCR digest matching, boot and runtime logs replaying to the quote (else
// kVerificationFailed listing the reasons). The draft then allows exactly
// what the node shows: the quoted boot PCR values, secure boot if it is on,
// its boot applications, and its runtime files and digests.
Result<Policy> LearnPolicy(const Evidence& evidence, const AttestationKey& attestation_key);

}  // namespace attest::verifier
