#include "boot_log_replay.h"

#include <algorithm>
#include <map>
#include <set>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"

namespace attest::swtpm_boot {
namespace {

bool Contains(const std::vector<std::uint16_t>& items, std::uint16_t item) {
  return std::ranges::find(items, item) != items.end();
}

// PC Client PTP: locality 0 may extend PCRs 0-16 and 23; 17-22 are the
// DRTM PCRs (localities 2-4).
bool ExtendableAtLocalityZero(std::uint32_t pcr) { return pcr <= 16 || pcr == 23; }

std::string BankList(const std::vector<std::uint16_t>& banks) {
  std::string text;
  for (std::uint16_t bank : banks) text += (text.empty() ? "" : ", ") + tpm::AlgorithmName(bank);
  return text.empty() ? "none" : text;
}

}  // namespace

Result<ReplayPlan> PlanReplay(const verifier::EventLog& log,
                              const std::vector<std::uint16_t>& tpm_banks) {
  // PCR 0 of such a log starts at 00..0L (or 00..04): the firmware's
  // locality or an H-CRTM sequence set it before the first extend, which
  // only the platform can do; from zeros no extend reaches that value.
  if (log.hcrtm) {
    return MakeError(ErrorCode::kUnsupported,
                     "the log has an H-CRTM event (EV_EFI_HCRTM_EVENT): its PCR 0 starts at "
                     "00..04, which no software extend of a simulator's PCR 0 can reproduce");
  }
  if (log.startup_locality) {
    return MakeError(ErrorCode::kUnsupported,
                     "the log has a StartupLocality event (locality " +
                         std::to_string(*log.startup_locality) + "): its PCR 0 starts at 00..0" +
                         std::to_string(*log.startup_locality) +
                         ", which no software extend of a simulator's PCR 0 can reproduce");
  }
  ReplayPlan plan;
  for (std::uint16_t bank : log.banks) {
    if (Contains(tpm_banks, bank) && tpm::HashAlgorithmById(bank).has_value()) {
      plan.banks.push_back(bank);
    }
  }
  for (std::uint16_t bank : tpm_banks) {
    if (!Contains(plan.banks, bank)) plan.skipped_banks.push_back(bank);
  }
  if (plan.banks.empty()) {
    return MakeError(ErrorCode::kUnsupported, "the log (banks " + BankList(log.banks) +
                                                  ") and the TPM (banks " + BankList(tpm_banks) +
                                                  ") have no bank in common");
  }
  std::set<std::uint32_t> pcrs;
  for (const verifier::BootEvent& event : log.events) {
    if (event.type == verifier::kEvNoAction) continue;
    const std::string where = "event at byte offset " + std::to_string(event.offset);
    if (!ExtendableAtLocalityZero(event.pcr)) {
      return MakeError(ErrorCode::kUnsupported,
                       where + " extends PCR " + std::to_string(event.pcr) +
                           ", which only a higher locality (DRTM) can extend");
    }
    for (std::uint16_t bank : plan.banks) {
      if (event.digests.Find(bank) == nullptr) {
        return MakeError(ErrorCode::kCorrupt,
                         where + " has no " + tpm::AlgorithmName(bank) + " digest");
      }
    }
    pcrs.insert(event.pcr);
    ++plan.extending_events;
  }
  if (pcrs.empty()) return MakeError(ErrorCode::kInvalidArgument, "the log extends no PCR");
  plan.pcrs.assign(pcrs.begin(), pcrs.end());
  for (std::uint16_t bank : plan.banks) plan.selection.banks.push_back({bank, plan.pcrs});
  return plan;
}

Status CheckAtResetValues(const ReplayPlan& plan, const tpm::PcrValues& values) {
  for (std::uint16_t bank : plan.banks) {
    const std::size_t size = tpm::HashAlgorithmById(bank)->digest_size;
    for (std::uint32_t pcr : plan.pcrs) {
      auto found_bank = values.find(bank);
      const Bytes* value = nullptr;
      if (found_bank != values.end()) {
        auto found = found_bank->second.find(pcr);
        if (found != found_bank->second.end()) value = &found->second;
      }
      if (value == nullptr) {
        return MakeError(ErrorCode::kTpm, "the TPM did not return " + tpm::AlgorithmName(bank) +
                                              " PCR " + std::to_string(pcr));
      }
      if (*value != tpm::PcrResetValue(pcr, size)) {
        return MakeError(ErrorCode::kVerificationFailed,
                         tpm::AlgorithmName(bank) + " PCR " + std::to_string(pcr) + " holds " +
                             HexEncode(*value) +
                             ", not its reset value: the TPM was extended since it started, so "
                             "the log's values cannot be reached; nothing was extended (restart "
                             "the simulator first)");
      }
    }
  }
  return OkStatus();
}

Status ExtendEvents(attestd::Tpm& tpm, const verifier::EventLog& log, const ReplayPlan& plan) {
  ATTEST_ASSIGN_OR_RETURN(attestd::TpmHandle session, tpm.StartSaltedSession());
  std::size_t extended = 0;
  for (const verifier::BootEvent& event : log.events) {
    if (event.type == verifier::kEvNoAction) continue;
    std::map<std::uint16_t, Bytes> digests;
    for (std::uint16_t bank : plan.banks) {
      const verifier::EventDigest* digest = event.digests.Find(bank);
      digests[bank] = Bytes(digest->digest.begin(), digest->digest.end());
    }
    Status status = tpm.ExtendPcr(event.pcr, digests, &session);
    if (!status.ok()) {
      return status.error().WithContext(
          "extending the event at byte offset " + std::to_string(event.offset) + " into PCR " +
          std::to_string(event.pcr) + " (" + std::to_string(extended) + " of " +
          std::to_string(plan.extending_events) +
          " events were extended before it: restart the simulator before replaying again)");
    }
    ++extended;
  }
  return OkStatus();
}

std::vector<std::string> CompareWithReplay(const verifier::EventLog& log, const ReplayPlan& plan,
                                           const tpm::PcrValues& read_back) {
  const tpm::PcrValues expected = verifier::ReplayEventLog(log, plan.banks);
  std::vector<std::string> differences;
  for (std::uint16_t bank : plan.banks) {
    for (std::uint32_t pcr : plan.pcrs) {
      Bytes want, got;
      if (auto b = expected.find(bank); b != expected.end()) {
        if (auto p = b->second.find(pcr); p != b->second.end()) want = p->second;
      }
      if (auto b = read_back.find(bank); b != read_back.end()) {
        if (auto p = b->second.find(pcr); p != b->second.end()) got = p->second;
      }
      if (want.empty() || got != want) {
        differences.push_back(tpm::AlgorithmName(bank) + " PCR " + std::to_string(pcr) +
                              ": the TPM holds " + (got.empty() ? "nothing" : HexEncode(got)) +
                              ", the log replays to " +
                              (want.empty() ? "nothing" : HexEncode(want)));
      }
    }
  }
  return differences;
}

Status ReplayBootLog(attestd::Tpm& tpm, ByteView log) {
  ATTEST_ASSIGN_OR_RETURN(verifier::EventLog parsed, verifier::ParseEventLog(log));
  ATTEST_ASSIGN_OR_RETURN(std::vector<std::uint16_t> tpm_banks, tpm.ActivePcrBanks());
  ATTEST_ASSIGN_OR_RETURN(ReplayPlan plan, PlanReplay(parsed, tpm_banks));
  ATTEST_ASSIGN_OR_RETURN(tpm::PcrValues before, tpm.ReadPcrs(plan.selection));
  ATTEST_RETURN_IF_ERROR(CheckAtResetValues(plan, before));
  ATTEST_RETURN_IF_ERROR(ExtendEvents(tpm, parsed, plan));
  ATTEST_ASSIGN_OR_RETURN(tpm::PcrValues after, tpm.ReadPcrs(plan.selection));
  std::vector<std::string> differences = CompareWithReplay(parsed, plan, after);
  if (!differences.empty()) {
    return MakeError(
        ErrorCode::kVerificationFailed,
        "after the replay, " + differences.front() +
            (differences.size() > 1 ? " (and " + std::to_string(differences.size() - 1) + " more)"
                                    : ""));
  }
  return OkStatus();
}

}  // namespace attest::swtpm_boot
