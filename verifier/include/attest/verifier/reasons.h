// Why a piece of evidence is not trusted: the stable reason codes of
// DESIGN §3, each with a detail a human can act on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/json.h"

namespace attest::verifier {

// Never renamed or reused: the names appear in API answers, CLI output and
// the ledger.
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
};

// "PCR_DIGEST_MISMATCH".
std::string_view ReasonCodeName(ReasonCode code);
// True for the codes that only inform (REBOOTED).
bool IsInformational(ReasonCode code);

struct Reason {
  ReasonCode code;
  std::string detail;
  std::optional<std::uint32_t> pcr;  // the PCR concerned, where there is one
  std::string path;                  // the runtime path concerned, where there is one
};

Reason MakeReason(ReasonCode code, std::string detail);
Reason MakePcrReason(ReasonCode code, std::uint32_t pcr, std::string detail);
Reason MakePathReason(ReasonCode code, std::string path, std::string detail);

// {"code": "...", "detail": "...", "pcr": 4, "path": "..."}
Json ReasonToJson(const Reason& reason);

}  // namespace attest::verifier
