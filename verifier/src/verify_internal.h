// The state one verification carries between its checks (verify.cpp runs
// them in the order docs/reason-codes.md lists; each file here owns a group of them).
#pragma once

#include <optional>
#include <span>

#include "attest/tpm/pcr.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/verified_event_log.h"
#include "attest/verifier/verify.h"

namespace attest::verifier::internal {

struct Verification {
  const VerificationInput& input;
  Verdict& verdict;
  // The posted PCR values the quote covers (others are ignored: nothing
  // vouches for them), in the quote's selection, or the policy's when the
  // quote could not be parsed.
  tpm::PcrSelection selection;
  tpm::PcrValues quoted;
  std::optional<EventLog> boot_log;                   // parsed; borrows the evidence's bytes
  std::optional<VerifiedEventLog> verified_boot_log;  // borrows boot_log
  // The runtime PCR's firmware value and whether the boot log extends it,
  // from the log or the cached boot state; nullopt without either.
  std::optional<std::pair<Sha256Digest, bool>> runtime_pcr_start;
  // A runtime log sent from the cursor: the verified entries before it
  // (the cached state's), judged with the sent ones.
  std::span<const runtime::RuntimeEntry> runtime_before_cursor;
  // The cursor was refused: no runtime entry is verified, none is judged.
  bool runtime_unjudged = false;

  void Fail(Reason reason) { verdict.reasons.push_back(std::move(reason)); }
  // The quoted value of `pcr` in `bank`, or nullptr when it was not quoted.
  const Bytes* Quoted(std::uint16_t bank, std::uint32_t pcr) const;
};

void CheckQuote(Verification& verification);
void CheckBootLog(Verification& verification);
// The evidence has no boot log: the cached boot state stands in, or
// BOOT_LOG_REQUIRED (verify_cached_boot.cpp).
void CheckCachedBoot(Verification& verification);
void CheckRuntimeLog(Verification& verification);
// The evidence's runtime log starts after the cursor: it replays from the
// cached runtime state's value, or RUNTIME_LOG_REQUIRED
// (verify_cached_runtime.cpp). `quoted`: the quoted runtime PCR.
void CheckRuntimeCursor(Verification& verification, const Bytes& quoted);
// Sets the verdict's verified_runtime: `before` (already kept) and `sent`
// replayed to the quoted `pcr_value`. Not when the state would pass the
// cache's bounds, the quote did not parse, or the runtime PCR's start is
// unknown.
void KeepVerifiedRuntime(Verification& verification, std::span<const runtime::RuntimeEntry> before,
                         std::span<const runtime::RuntimeEntry> sent,
                         const Sha256Digest& pcr_value);
void CheckPolicy(Verification& verification);
void CheckClock(Verification& verification);
}  // namespace attest::verifier::internal
