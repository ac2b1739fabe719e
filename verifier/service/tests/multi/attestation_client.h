// What the multi-verifier tests see of an attestation over HTTPS: the
// challenge from one verifier, the evidence answered at the same or another,
// the status, body and Retry-After of the answer; and the serial of an
// issued certificate, to look it up on record.
#pragma once

#include <string>

#include "attest/error.h"
#include "attest/http/client.h"
#include "attest/json.h"

#include "simulated_node.h"

namespace attest::service::test {

// One attestation as a client saw it.
struct Attestation {
  int status = 0;  // of the evidence POST (or of the challenge POST when that failed)
  Json body;       // the parsed response
  bool sent_boot_log = false;
  std::string retry_after;  // the Retry-After header of that response, "" if none
};

// The error code of an error body ({"error":{"code":...}}), "" if none.
std::string ErrorCodeOf(const Json& body);
// Whether an attestation answered 200 with a trusted verdict.
bool Trusted(const Result<Attestation>& result);
// What an attestation answered, for failure messages.
std::string Describe(const Result<Attestation>& result);
// The serial (lowercase hex, no leading zeros, as the service lists it) of
// the first certificate of a PEM chain.
Result<std::string> LeafSerial(const std::string& chain_pem);
// One attestation with the challenge from `challenger` and the evidence
// answered at `answerer` (which may be the same client). Errors are the
// transport's; every status comes back in the result.
Result<Attestation> AttestAcross(SimulatedNode& node, http::Client& challenger,
                                 http::Client& answerer, const AttestOptions& options = {});

}  // namespace attest::service::test
