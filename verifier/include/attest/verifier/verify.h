// The verdict on one evidence document: every check of DESIGN §3 in order,
// collecting all the reasons it fails rather than stopping at the first.
#pragma once

#include <optional>
#include <vector>

#include "attest/bytes.h"
#include "attest/json.h"
#include "attest/tpm/pcr.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/quote.h"
#include "attest/verifier/reasons.h"

namespace attest::verifier {

struct VerificationInput {
  const Evidence* evidence = nullptr;
  const AttestationKey* attestation_key = nullptr;
  const Policy* policy = nullptr;
  // The nonce the verifier issued. Absent only offline, where freshness is
  // then not established and the verdict says so.
  std::optional<Bytes> expected_nonce;
  // The clock of the node's last trusted quote, if any.
  std::optional<QuoteClock> previous_clock;
};

struct Verdict {
  bool trusted = false;
  bool nonce_checked = false;
  std::vector<Reason> reasons;  // failures and information, in check order
  std::optional<QuoteInfo> quote;
  tpm::PcrValues boot_replay;  // what the boot log replays to, if it parsed
  std::optional<BootFacts> boot_facts;
};

Verdict VerifyEvidence(const VerificationInput& input);

// {"trusted": bool, "nonce_checked": bool, "reasons": [...], "quote":
// {"selection", "reset_count", "restart_count", "clock", "safe"}}
Json VerdictToJson(const Verdict& verdict);

}  // namespace attest::verifier
