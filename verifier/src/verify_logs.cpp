// Boot-log and runtime-log replay against the quoted PCRs (every log must
// replay exactly to what the TPM signed: docs/trust-model.md §2), and the boot facts read
// from what replay verified.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "attest/encoding.h"
#include "attest/runtime/entry.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/ima_log.h"

#include "verify_internal.h"

namespace attest::verifier::internal {
namespace {

std::string MismatchDetail(std::uint32_t pcr, std::uint16_t bank, const Bytes& replayed,
                           const Bytes& quoted) {
  return "PCR " + std::to_string(pcr) + " (" + tpm::AlgorithmName(bank) + ") replays to " +
         HexEncode(replayed) + " but the quote says " + HexEncode(quoted);
}

void ReportReplay(Verification& verification, const VerifiedEventLog& verified) {
  for (std::uint16_t bank : verified.unexplained_banks()) {
    verification.Fail(MakeReason(ReasonCode::kBootLogReplayMismatch,
                                 "the boot log has no " + tpm::AlgorithmName(bank) +
                                     " digests, so it cannot explain the quoted " +
                                     tpm::AlgorithmName(bank) + " PCRs"));
  }
  for (const PcrMismatch& mismatch : verified.mismatches()) {
    std::string detail =
        mismatch.replayed.empty()
            ? "PCR " + std::to_string(mismatch.pcr) + " (" + tpm::AlgorithmName(mismatch.bank) +
                  "): an event of the log lacks its " + tpm::AlgorithmName(mismatch.bank) +
                  " digest"
            : MismatchDetail(mismatch.pcr, mismatch.bank, mismatch.replayed, mismatch.quoted);
    // The summary reads every event: only for the one hint that needs it.
    if (mismatch.pcr == 5 && !SummarizeBootLog(*verification.boot_log).exit_boot_services_seen) {
      detail +=
          "; the log has no ExitBootServices events, which some kernels drop from the log they "
          "expose although the firmware extended them";
    }
    verification.Fail(MakePcrReason(ReasonCode::kBootLogReplayMismatch, mismatch.pcr, detail));
  }
}

bool ExtendsPcr(const EventLog& log, std::uint32_t pcr) {
  return std::ranges::any_of(log.events, [pcr](const BootEvent& event) {
    return event.pcr == pcr && event.type != kEvNoAction;
  });
}

// The value the firmware leaves in the runtime PCR (the verifier replays
// those events first: runtime/FORMAT.md §3), and whether the log extends it.
std::pair<Sha256Digest, bool> FirmwareValue(const Verification& verification, std::uint32_t pcr) {
  Sha256Digest value{};
  auto bank = verification.verdict.boot_replay.find(kTpmAlgSha256);
  if (bank != verification.verdict.boot_replay.end()) {
    auto found = bank->second.find(pcr);
    if (found != bank->second.end() && found->second.size() == value.size()) {
      std::ranges::copy(found->second, value.begin());
    }
  }
  return {value, ExtendsPcr(*verification.boot_log, pcr)};
}

// By default a boot log that extends the runtime PCR is refused: a fake
// "firmware" event could carry a runtime measurement the runtime log then
// never shows. A policy may pin the values the firmware's events may give it.
void CheckFirmwareValue(Verification& verification, std::uint32_t pcr, const Sha256Digest& value,
                        bool extended) {
  verification.verdict.runtime_pcr_firmware_value = value;
  const std::set<Sha256Digest>& allowed = verification.input.policy.runtime.firmware_values;
  std::string name = "runtime PCR " + std::to_string(pcr);
  if (allowed.empty()) {
    if (extended) {
      verification.Fail(MakePcrReason(
          ReasonCode::kBootLogRuntimePcr, pcr,
          "the boot log extends " + name +
              ", and the policy does not pin the value those events may give it "
              "(runtime.firmware_values): a runtime measurement could hide among them"));
    }
  } else if (!allowed.contains(value)) {
    verification.Fail(MakePcrReason(
        ReasonCode::kBootLogRuntimePcr, pcr,
        "the boot log's events for " + name + " replay to " + HexEncode(AsBytes(value)) +
            (extended ? "" : " (it has none)") + ", none of the " + std::to_string(allowed.size()) +
            " values runtime.firmware_values allows"));
  }
}

// What a caller may cache of this boot: only when the log explained every
// quoted boot PCR.
void KeepVerifiedBoot(Verification& verification) {
  const Verdict& verdict = verification.verdict;
  const VerifiedEventLog& verified = *verification.verified_boot_log;
  if (!verdict.quote || !verified.mismatches().empty() || !verified.unexplained_banks().empty() ||
      !verdict.boot_facts || !verification.runtime_pcr_start) {
    return;
  }
  VerifiedBootState state;
  state.reset_count = verdict.quote->clock.reset_count;
  state.restart_count = verdict.quote->clock.restart_count;
  state.runtime_pcr = verification.input.policy.runtime.pcr;
  for (const auto& [bank, values] : verification.quoted) {
    for (const auto& [pcr, value] : values) {
      if (pcr == state.runtime_pcr || pcr == kImaPcr) continue;
      state.boot_pcrs[bank][pcr] = value;
    }
  }
  state.facts = *verdict.boot_facts;
  state.runtime_pcr_firmware_value = verification.runtime_pcr_start->first;
  state.boot_log_extends_runtime_pcr = verification.runtime_pcr_start->second;
  verification.verdict.verified_boot = std::move(state);
}

}  // namespace

void CheckBootLog(Verification& verification) {
  const Evidence& evidence = verification.input.evidence;
  if (!evidence.boot_log) {
    CheckCachedBoot(verification);
    return;
  }
  Result<EventLog> log = ParseEventLog(*evidence.boot_log);
  if (!log.ok()) {
    verification.Fail(MakeReason(ReasonCode::kBootLogMalformed, log.error().message));
    return;
  }
  verification.boot_log = std::move(log).value();
  Verdict& verdict = verification.verdict;
  // Only the quoted banks can be verified, and sha256 gives the runtime
  // PCR's firmware value (CheckFirmwareValue): replaying any other bank
  // would cost hashing and prove nothing.
  std::vector<std::uint16_t> banks = {kTpmAlgSha256};
  for (const auto& [bank, values] : verification.quoted) {
    if (bank != kTpmAlgSha256) banks.push_back(bank);
  }
  verdict.boot_replay = ReplayEventLog(*verification.boot_log, banks);
  std::array<std::uint32_t, 2> excluded = {verification.input.policy.runtime.pcr, kImaPcr};
  verification.verified_boot_log =
      VerifyEventLog(*verification.boot_log, verdict.boot_replay, verification.quoted, excluded);
  ReportReplay(verification, *verification.verified_boot_log);
  verdict.boot_facts = ExtractBootFacts(*verification.verified_boot_log);
  for (const UnboundEvent& unbound : verdict.boot_facts->unbound) {
    verification.Fail(MakeEventReason(ReasonCode::kBootEventUnbound, unbound.index, unbound.pcr,
                                      unbound.detail + "; it establishes nothing"));
  }
  verification.runtime_pcr_start =
      FirmwareValue(verification, verification.input.policy.runtime.pcr);
  KeepVerifiedBoot(verification);
}

void CheckRuntimeLog(Verification& verification) {
  const Evidence& evidence = verification.input.evidence;
  std::uint32_t pcr = verification.input.policy.runtime.pcr;
  Sha256Digest initial{};
  if (verification.runtime_pcr_start) {
    initial = verification.runtime_pcr_start->first;
    CheckFirmwareValue(verification, pcr, initial, verification.runtime_pcr_start->second);
  }
  if (evidence.runtime_log && evidence.runtime_log->pcr != pcr) {
    verification.Fail(MakePcrReason(ReasonCode::kRuntimeLogMalformed, pcr,
                                    "the runtime log is for PCR " +
                                        std::to_string(evidence.runtime_log->pcr) +
                                        " but the policy's runtime PCR is " + std::to_string(pcr)));
    // A tail after a cursor is judged only with what it continues.
    verification.runtime_unjudged = evidence.runtime_log_start > 0;
    return;
  }
  const Bytes* quoted = verification.Quoted(kTpmAlgSha256, pcr);
  if (quoted == nullptr) {
    verification.Fail(
        MakePcrReason(ReasonCode::kRuntimeLogReplayMismatch, pcr,
                      "runtime PCR " + std::to_string(pcr) + " (sha256) is not in the quote"));
    verification.runtime_unjudged = evidence.runtime_log_start > 0;
    return;
  }
  if (evidence.runtime_log_start > 0) {
    CheckRuntimeCursor(verification, *quoted);
    return;
  }
  std::span<const runtime::RuntimeEntry> entries;
  if (evidence.runtime_log) entries = evidence.runtime_log->entries;
  Sha256Digest replayed = runtime::Replay(entries, initial);
  Bytes replayed_bytes(replayed.begin(), replayed.end());
  if (replayed_bytes != *quoted) {
    verification.Fail(MakePcrReason(ReasonCode::kRuntimeLogReplayMismatch, pcr,
                                    MismatchDetail(pcr, kTpmAlgSha256, replayed_bytes, *quoted) +
                                        " (" + std::to_string(entries.size()) +
                                        " runtime log entries)"));
    return;
  }
  KeepVerifiedRuntime(verification, {}, entries, replayed);
}

}  // namespace attest::verifier::internal
