#include "attest/attestd/runtime_pcr.h"

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"

namespace attest {
Result<std::optional<std::string>> CheckRuntimePcrChoice(std::uint32_t pcr,
                                                         bool allow_resettable_pcr) {
  if (pcr > kMaxRuntimePcr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "runtime PCR " + std::to_string(pcr) + " does not exist (0-23)");
  }
  if (pcr == 16 || pcr == 23) {
    std::string why = "PCR " + std::to_string(pcr) +
                      " can be reset from software, so a root attacker can erase runtime "
                      "measurements from it";
    if (!allow_resettable_pcr) {
      return MakeError(ErrorCode::kInvalidArgument,
                       why + "; use PCR 15 (the default), or force it if you must");
    }
    return std::optional<std::string>(why + " (allowed by configuration)");
  }
  if (pcr < 8) {
    return std::optional<std::string>("PCR " + std::to_string(pcr) +
                                      " is a firmware PCR; the verifier will replay the "
                                      "firmware's events for it before the runtime log");
  }
  return std::optional<std::string>();
}

Result<std::unique_ptr<RuntimeMeasurements>> RuntimeMeasurements::Start(
    Tpm& tpm, std::vector<std::string> patterns, const Clock& clock, RuntimePcrOptions options) {
  ATTEST_RETURN_IF_ERROR(CheckRuntimePcrChoice(options.pcr, options.allow_resettable_pcr));
  RuntimeLog log;
  log.pcr = options.pcr;
  Result<RuntimeLog> loaded = LoadRuntimeLog(options.log_path);
  if (loaded.ok()) {
    log = std::move(loaded).value();
  } else if (loaded.error().code != ErrorCode::kNotFound) {
    return loaded.error();
  }
  RuntimeMeasurerOptions measurer_options;
  measurer_options.pcr = options.pcr;
  measurer_options.log_path = options.log_path;
  measurer_options.hash = options.hash;
  ATTEST_ASSIGN_OR_RETURN(
      RuntimeMeasurer measurer,
      RuntimeMeasurer::Create(std::move(patterns), clock, std::move(log), measurer_options));
  std::unique_ptr<RuntimeMeasurements> measurements(
      new RuntimeMeasurements(tpm, std::move(measurer), std::move(options)));
  ATTEST_ASSIGN_OR_RETURN(measurements->banks_, tpm.ActivePcrBanks());
  ATTEST_ASSIGN_OR_RETURN(measurements->start_check_, measurements->CheckAndRecover());
  return measurements;
}

Result<RuntimeLogCheck> RuntimeMeasurements::CheckAndRecover() {
  const tpm::PcrSelection selection{{{TPM2_ALG_SHA256, {options_.pcr}}}};
  const std::vector<RuntimeEntry>& entries = measurer_.log().entries;
  RuntimeLogCheck check;
  check.entries = entries.size();
  check.replayed = Replay(entries);
  ATTEST_ASSIGN_OR_RETURN(tpm::PcrValues values, tpm_->ReadPcrs(selection));
  check.pcr_value = values[TPM2_ALG_SHA256][options_.pcr];
  if (check.pcr_value == Bytes(check.replayed.begin(), check.replayed.end())) return check;

  // Entries are saved before they are extended: a crash in between leaves
  // the log exactly one entry ahead, and finishing the extend is the truth.
  if (!entries.empty()) {
    Sha256Digest without_last =
        Replay(std::span<const RuntimeEntry>(entries.data(), entries.size() - 1));
    if (check.pcr_value == Bytes(without_last.begin(), without_last.end())) {
      ATTEST_RETURN_IF_ERROR(Extend(entries.back()));
      ATTEST_ASSIGN_OR_RETURN(values, tpm_->ReadPcrs(selection));
      check.pcr_value = values[TPM2_ALG_SHA256][options_.pcr];
      check.state = RuntimeLogCheck::State::kRecovered;
      check.detail = "the last runtime log entry (seq " + std::to_string(entries.size()) + ", " +
                     entries.back().path + ") was saved but not extended; extended it now";
      return check;
    }
  }
  check.state = RuntimeLogCheck::State::kMismatch;
  check.detail = "runtime log " + options_.log_path + " (" + std::to_string(entries.size()) +
                 " entries) replays to " + HexEncode(check.replayed) + " but PCR " +
                 std::to_string(options_.pcr) + " (sha256) is " + HexEncode(check.pcr_value) +
                 "; something else extended the PCR or the log was altered. The verifier "
                 "will report this node's runtime log as not replaying until reboot";
  return check;
}

Status RuntimeMeasurements::Extend(const RuntimeEntry& entry) {
  // Every active bank gets the event, each hashed with its own algorithm:
  // a bank left unextended would be free for anyone to set.
  Bytes encoding = RuntimeEventEncoding(entry);
  std::map<std::uint16_t, Bytes> digests;
  for (std::uint16_t bank : banks_) {
    auto algorithm = tpm::HashAlgorithmById(bank);
    if (!algorithm) continue;  // a bank this build cannot hash (SM3): left alone
    ATTEST_ASSIGN_OR_RETURN(digests[bank], tpm::HashWith(*algorithm, encoding));
  }
  return tpm_->ExtendPcr(options_.pcr, digests)
      .WithContext("extend runtime measurement of " + entry.path);
}

Result<RuntimeUpdate> RuntimeMeasurements::MeasureAndExtend() {
  ATTEST_ASSIGN_OR_RETURN(RuntimeMeasurement measurement, measurer_.Measure());
  RuntimeUpdate update;
  update.warnings = std::move(measurement.warnings);
  for (RuntimeEntry& entry : measurement.new_entries) {
    ATTEST_RETURN_IF_ERROR(measurer_.Append(entry));
    ATTEST_RETURN_IF_ERROR(Extend(entry));
    update.extended.push_back(std::move(entry));
  }
  return update;
}

}  // namespace attest
