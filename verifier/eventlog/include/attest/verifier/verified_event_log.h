// The part of a boot log that a quote vouches for. A parsed EventLog only
// says what the node claims; VerifyEventLog replays it against the PCR
// values the quote's signature covers and keeps, for each quoted (PCR,
// bank) pair whose replay matched, that pair's extends. Boot facts for
// policy (boot_facts.h) take only this type, so an event in an unquoted PCR
// or bank, or in a PCR that did not replay, cannot reach a verdict.
//
// Even here an event's type and data are claims: replay proves the digest
// sequence, nothing else. boot_facts.h says when data is bound to a digest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "attest/bytes.h"
#include "attest/tpm/pcr.h"
#include "attest/verifier/event_log.h"

namespace attest::verifier {

// One extend of a verified (PCR, bank) pair.
struct VerifiedExtend {
  const BootEvent* event = nullptr;  // into the EventLog: type and data unverified
  std::size_t index = 0;             // the event's index in EventLog::events
  std::size_t position = 0;          // 0 for the first extend of this PCR, 1 for the next...
  ByteView digest;                   // the digest in the verified bank: what the TPM extended
};

// A quoted PCR the log does not replay to.
struct PcrMismatch {
  std::uint32_t pcr = 0;
  std::uint16_t bank = 0;
  Bytes replayed;  // what the log gives (the reset value when it has no event for the PCR)
  Bytes quoted;
};

class VerifiedEventLog {
 public:
  // The extends of `pcr` in `bank` in log order (possibly none), or nullopt
  // when that pair was not quoted, was excluded, or did not replay.
  std::optional<std::span<const VerifiedExtend>> Extends(std::uint32_t pcr,
                                                         std::uint16_t bank) const;
  // The verified bank of `pcr` with the largest digest (SHA-512 before
  // SHA-384 before SHA-256 before SHA-1), or nullopt if none is verified.
  std::optional<std::uint16_t> StrongestBank(std::uint32_t pcr) const;

  // Quoted pairs that did not replay, in selection order.
  const std::vector<PcrMismatch>& mismatches() const { return mismatches_; }
  // Quoted banks the log has no digests for (or this build cannot hash):
  // nothing of those banks is verified.
  const std::vector<std::uint16_t>& unexplained_banks() const { return unexplained_banks_; }

 private:
  friend VerifiedEventLog VerifyEventLog(const EventLog& log, const tpm::PcrValues& replayed,
                                         const tpm::PcrValues& quoted,
                                         std::span<const std::uint32_t> excluded_pcrs);
  std::map<std::pair<std::uint32_t, std::uint16_t>, std::vector<VerifiedExtend>> verified_;
  std::vector<PcrMismatch> mismatches_;
  std::vector<std::uint16_t> unexplained_banks_;
};

// Compares `replayed` (ReplayEventLog(log)) with `quoted` (bank -> PCR ->
// value, only what the quote covers) for every quoted pair except
// `excluded_pcrs` (PCRs whose events are in other logs: the runtime PCR,
// IMA's PCR 10). A PCR without events must hold its reset value (or PCR 0's
// locality start). The result borrows `log`, which must outlive it.
VerifiedEventLog VerifyEventLog(const EventLog& log, const tpm::PcrValues& replayed,
                                const tpm::PcrValues& quoted,
                                std::span<const std::uint32_t> excluded_pcrs);

}  // namespace attest::verifier
