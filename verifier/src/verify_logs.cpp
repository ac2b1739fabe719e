// Boot-log and runtime-log replay against the quoted PCRs (DESIGN §2: every
// log must replay exactly to what the TPM signed).
#include <algorithm>
#include <string>

#include "attest/attestd/runtime_entry.h"
#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"

#include "verify_internal.h"

namespace attest::verifier::internal {
namespace {

// The kernel's IMA PCR: its events are in the IMA list, not the firmware
// log, so a boot-log replay says nothing about it.
constexpr std::uint32_t kImaPcr = 10;

bool LogHasBank(const EventLog& log, std::uint16_t bank) {
  return std::ranges::find(log.banks, bank) != log.banks.end();
}

std::string MismatchDetail(std::uint32_t pcr, std::uint16_t bank, const Bytes& replayed,
                           const Bytes& quoted) {
  return "PCR " + std::to_string(pcr) + " (" + BankName(bank) + ") replays to " +
         HexEncode(replayed) + " but the quote says " + HexEncode(quoted);
}

void CompareBootBank(Verification& verification, const tpm::PcrBankSelection& bank,
                     const tpm::PcrValues& replayed) {
  const EventLog& log = *verification.boot_log;
  std::uint32_t runtime_pcr = verification.input.policy->runtime.pcr;
  std::optional<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmById(bank.hash_algorithm);
  if (!LogHasBank(log, bank.hash_algorithm) || !algorithm) {
    verification.Fail(MakeReason(ReasonCode::kBootLogReplayMismatch,
                                 "the boot log has no " + BankName(bank.hash_algorithm) +
                                     " digests, so it cannot explain the quoted " +
                                     BankName(bank.hash_algorithm) + " PCRs"));
    return;
  }
  auto bank_values = replayed.find(bank.hash_algorithm);
  for (std::uint32_t pcr : bank.indexes) {
    if (pcr == runtime_pcr || pcr == kImaPcr) continue;
    const Bytes* quoted = verification.Quoted(bank.hash_algorithm, pcr);
    if (quoted == nullptr) continue;  // PCR_DIGEST_MISMATCH already says so
    Bytes expected = tpm::PcrResetValue(pcr, algorithm->digest_size);
    if (bank_values != replayed.end()) {
      auto value = bank_values->second.find(pcr);
      if (value != bank_values->second.end()) expected = value->second;
    }
    if (expected == *quoted) continue;
    std::string detail = MismatchDetail(pcr, bank.hash_algorithm, expected, *quoted);
    if (pcr == 5 && verification.verdict.boot_facts &&
        !verification.verdict.boot_facts->exit_boot_services_seen) {
      detail +=
          "; the log has no ExitBootServices events, which some kernels drop from the log they "
          "expose although the firmware extended them";
    }
    verification.Fail(MakePcrReason(ReasonCode::kBootLogReplayMismatch, pcr, detail));
  }
}

}  // namespace

void CheckBootLog(Verification& verification) {
  const Evidence& evidence = *verification.input.evidence;
  if (!evidence.boot_log) {
    verification.Fail(MakeReason(ReasonCode::kBootLogRequired,
                                 "the evidence has no boot log, and no verified log for this "
                                 "boot is at hand"));
    return;
  }
  Result<EventLog> log = ParseEventLog(*evidence.boot_log);
  if (!log.ok()) {
    verification.Fail(MakeReason(ReasonCode::kBootLogMalformed, log.error().message));
    return;
  }
  verification.boot_log = std::move(log).value();
  verification.verdict.boot_replay = ReplayEventLog(*verification.boot_log);
  verification.verdict.boot_facts = ExtractBootFacts(*verification.boot_log);
  for (const tpm::PcrBankSelection& bank : verification.selection.banks) {
    CompareBootBank(verification, bank, verification.verdict.boot_replay);
  }
}

void CheckRuntimeLog(Verification& verification) {
  const Evidence& evidence = *verification.input.evidence;
  std::uint32_t pcr = verification.input.policy->runtime.pcr;
  if (evidence.runtime_log && evidence.runtime_log->pcr != pcr) {
    verification.Fail(MakePcrReason(ReasonCode::kRuntimeLogMalformed, pcr,
                                    "the runtime log is for PCR " +
                                        std::to_string(evidence.runtime_log->pcr) +
                                        " but the policy's runtime PCR is " + std::to_string(pcr)));
    return;
  }
  const Bytes* quoted = verification.Quoted(TPM2_ALG_SHA256, pcr);
  if (quoted == nullptr) {
    verification.Fail(
        MakePcrReason(ReasonCode::kRuntimeLogReplayMismatch, pcr,
                      "runtime PCR " + std::to_string(pcr) + " (sha256) is not in the quote"));
    return;
  }
  // Firmware events for the runtime PCR come first (DESIGN §2).
  Sha256Digest initial{};
  auto firmware = verification.verdict.boot_replay.find(TPM2_ALG_SHA256);
  if (firmware != verification.verdict.boot_replay.end()) {
    auto value = firmware->second.find(pcr);
    if (value != firmware->second.end() && value->second.size() == initial.size()) {
      std::copy(value->second.begin(), value->second.end(), initial.begin());
    }
  }
  std::span<const RuntimeEntry> entries;
  if (evidence.runtime_log) entries = evidence.runtime_log->entries;
  Sha256Digest replayed = Replay(entries, initial);
  Bytes replayed_bytes(replayed.begin(), replayed.end());
  if (replayed_bytes != *quoted) {
    verification.Fail(MakePcrReason(ReasonCode::kRuntimeLogReplayMismatch, pcr,
                                    MismatchDetail(pcr, TPM2_ALG_SHA256, replayed_bytes, *quoted) +
                                        " (" + std::to_string(entries.size()) +
                                        " runtime log entries)"));
  }
}

}  // namespace attest::verifier::internal
