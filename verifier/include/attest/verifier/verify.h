// The verdict on one evidence document: every check of DESIGN §3 in order,
// collecting all the reasons it fails rather than stopping at the first.
#pragma once

#include <optional>
#include <vector>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/json.h"
#include "attest/sha256.h"
#include "attest/tpm/pcr.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/boot_facts.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/quote.h"
#include "attest/verifier/reasons.h"
#include "attest/verifier/verified_runtime.h"

namespace attest::verifier {

// What a verified boot log established, which the service keeps per node
// and boot so that later quotes of the same boot may omit the log
// (incremental evidence, docs/protocol.md §6). Made only from a boot log
// every quoted boot PCR of which replayed (Verdict::verified_boot).
struct VerifiedBootState {
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  std::uint32_t runtime_pcr = 15;
  // The quoted value of every quoted PCR but the runtime PCR and PCR 10:
  // the values the log replayed to.
  tpm::PcrValues boot_pcrs;
  BootFacts facts;
  Sha256Digest runtime_pcr_firmware_value{};
  bool boot_log_extends_runtime_pcr = false;
};

// Whether a quote of `selection` with `runtime_pcr` could be decided on
// `state` at all: the same runtime PCR, and exactly the boot PCRs (bank and
// index) it holds. A policy that changed either makes every cached state
// useless, and a node must be told so before it omits its boot log.
bool CachedBootFitsSelection(const VerifiedBootState& state, const tpm::PcrSelection& selection,
                             std::uint32_t runtime_pcr);

// For storage: kCorrupt naming the member when the JSON is not one.
Json VerifiedBootStateToJson(const VerifiedBootState& state);
Result<VerifiedBootState> VerifiedBootStateFromJson(const Json& json);

// What one verification reads; the caller keeps the three documents alive
// for the call.
struct VerificationInput {
  const Evidence& evidence;
  const AttestationKey& attestation_key;
  const Policy& policy;
  // The nonce the verifier issued. Without it nothing shows the quote is
  // fresh: NONCE_NOT_CHECKED, unless the caller waives freshness below.
  std::optional<Bytes> expected_nonce;
  // The clock of the node's last trusted quote, if any.
  std::optional<QuoteClock> previous_clock;
  // Offline only, and only on an operator's explicit request: a verdict
  // without a challenge may be trusted (it still says nonce_checked false).
  bool allow_unchecked_freshness = false;
  // Consulted only when the evidence has no boot log. Its facts stand in
  // for the log's only when the quote is of the same boot (resetCount,
  // restartCount), the policy's runtime PCR is the cached one, and the quote
  // covers exactly the cached boot PCRs, each with exactly the cached value:
  // the same log would then replay and read the same. Otherwise
  // BOOT_LOG_REQUIRED, and the node resends in full.
  const VerifiedBootState* cached_boot = nullptr;
  // Consulted only when the evidence's runtime log starts after a cursor
  // (runtime_log_start > 0). It stands in for the entries before it only
  // when the quote is of the same boot, the policy's runtime PCR is the
  // cached one, the cursor is its entry count, the runtime PCR's firmware
  // value is the one it started from, and the sent entries replay from its
  // value to the quoted one. Otherwise RUNTIME_LOG_REQUIRED, and the node
  // resends in full. Its entries are judged under `policy` like sent ones.
  const VerifiedRuntimeState* cached_runtime = nullptr;
};

struct Verdict {
  bool trusted = false;
  bool nonce_checked = false;
  // False when the AK was a bare public key the operator vouched for, not a
  // TPM public area whose attributes were checked.
  bool ak_attributes_checked = false;
  std::vector<Reason> reasons;  // failures and information, in check order
  std::optional<QuoteInfo> quote;
  // What the boot log replays to, if it parsed: in the banks the quote
  // covers, and sha256 (the runtime PCR's bank); other banks are not replayed.
  tpm::PcrValues boot_replay;
  // What a policy may decide on: read from the events the quote vouches
  // for (boot_facts.h). Absent when the boot log is missing or malformed.
  std::optional<BootFacts> boot_facts;
  // The firmware's value of the runtime PCR: what the boot log's sha256
  // events for it replay to (zero when it has none). Absent without a log.
  std::optional<Sha256Digest> runtime_pcr_firmware_value;
  // Set when the boot log (or cached_boot) explained every quoted boot PCR:
  // what a caller may cache for this boot, if the verdict is trusted.
  std::optional<VerifiedBootState> verified_boot;
  bool boot_from_cache = false;  // the cached state stood in for the log
  // Set when the runtime log (whole, or from the cursor) replayed to the
  // quoted runtime PCR: what a caller may cache, if the verdict is trusted.
  std::optional<VerifiedRuntimeState> verified_runtime;
  bool runtime_from_cursor = false;  // the cached runtime state stood in for its start
};

Verdict VerifyEvidence(const VerificationInput& input);

// The checks that show who speaks, alone: the quote parses, this AK signed
// it, it signs the expected nonce, and the posted PCR values are the quoted
// ones. A service runs them first so that a stranger's evidence costs one
// signature check, not a log parse and replay.
class QuoteCheck {
 public:
  // The AK signed the quote over the expected nonce: the node itself speaks.
  bool authenticated() const;
  // The verdict so far: the quote's reasons only, never trusted.
  const Verdict& verdict() const { return verdict_; }

 private:
  friend QuoteCheck CheckQuoteFirst(const VerificationInput& input);
  friend Verdict VerifyEvidence(const VerificationInput& input, QuoteCheck checked);
  const VerificationInput* input_ = nullptr;
  Verdict verdict_;
  tpm::PcrSelection selection_;
  tpm::PcrValues quoted_;
};

QuoteCheck CheckQuoteFirst(const VerificationInput& input);
// VerifyEvidence continuing from CheckQuoteFirst of the same input object
// (`input.cached_boot` may be set in between): the signature is not
// verified twice. With another input object it starts over.
Verdict VerifyEvidence(const VerificationInput& input, QuoteCheck checked);

// {"trusted": bool, "nonce_checked": bool, "ak_attributes_checked": bool,
//  "reasons": [...], "boot_facts": {"secure_boot": bool or null,
//  "secure_boot_detail", "uefi_variable_value_only_digests": bool,
//  "boot_applications": count or null}, "quote": {"selection", "reset_count",
//  "restart_count", "clock", "safe", "firmware_version": "0x" + 16 hex digits}}
Json VerdictToJson(const Verdict& verdict);

}  // namespace attest::verifier
