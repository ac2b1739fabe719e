// Why a piece of evidence is not trusted: stable reason codes, each with a
// detail a human can act on. docs/reason-codes.md says what triggers each
// and what to do; the ReasonCodesDoc test keeps the page equal to kNames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/json.h"

namespace attest::verifier {

// Never renamed or reused: the names appear in API answers, CLI output and
// the ledger. New codes go at the end.
enum class ReasonCode {
  kNonceUnknown,
  kNonceExpired,
  kNonceReused,
  kAttestMalformed,
  kSignatureInvalid,
  kNonceMismatch,
  kPcrDigestMismatch,
  kBootLogRequired,
  kBootLogMalformed,
  kBootLogReplayMismatch,
  kRuntimeLogMalformed,
  kRuntimeLogReplayMismatch,
  kBootPolicyViolation,
  kRuntimeNotApproved,
  kRuntimeMissing,
  kClockRollback,
  kClockUnsafe,
  kRebooted,  // informational: does not make the node untrusted
  // No challenge to compare the quote's nonce with, and the caller did not
  // waive freshness: nothing shows the quote is not a replay.
  kNonceNotChecked,
  // The boot log extends the runtime PCR and the policy does not pin the
  // value those events may give it.
  kBootLogRuntimePcr,
  // Informational: an event where a fact is read has data its digest does
  // not bind; the fact is not established.
  kBootEventUnbound,
  // The evidence sends its runtime log from a cursor (runtime_log_start)
  // the verifier cannot stand behind: the node resends the log in full.
  kRuntimeLogRequired,
};

// "PCR_DIGEST_MISMATCH".
std::string_view ReasonCodeName(ReasonCode code);
// True for the codes that only inform (REBOOTED, BOOT_EVENT_UNBOUND).
bool IsInformational(ReasonCode code);

struct Reason {
  ReasonCode code;
  std::string detail;
  std::optional<std::uint32_t> pcr;  // the PCR concerned, where there is one
  std::string path;                  // the runtime path concerned, where there is one
  std::optional<std::size_t> event;  // the boot log event concerned (index), where there is one
};

Reason MakeReason(ReasonCode code, std::string detail);
Reason MakePcrReason(ReasonCode code, std::uint32_t pcr, std::string detail);
Reason MakePathReason(ReasonCode code, std::string path, std::string detail);
Reason MakeEventReason(ReasonCode code, std::size_t event, std::uint32_t pcr, std::string detail);

// {"code": "...", "detail": "...", "pcr": 4, "path": "...", "event": 12,
//  "informational": true}
Json ReasonToJson(const Reason& reason);

}  // namespace attest::verifier
