#include "attest/attestd/runtime_pcr.h"

#include "attest/attestd/runtime_patterns.h"
#include "attest/attestd/runtime_pending.h"
#include "attest/encoding.h"
#include "attest/utf8.h"

namespace attest::attestd {
namespace {

Sha256Digest ExtendedBy(const Sha256Digest& pcr, const runtime::RuntimeEntry& entry) {
  return runtime::Replay(std::span<const runtime::RuntimeEntry>(&entry, 1), pcr);
}

std::string Seq(std::size_t seq) { return "seq " + std::to_string(seq); }

}  // namespace

Result<std::optional<std::string>> CheckRuntimePcrChoice(std::uint32_t pcr,
                                                         bool allow_resettable_pcr) {
  if (pcr > runtime::kMaxRuntimePcr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "runtime PCR " + std::to_string(pcr) + " does not exist (0-23)");
  }
  if (pcr >= 17 && pcr <= 22) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "PCR " + std::to_string(pcr) +
                         " is a dynamic-root-of-trust PCR (17-22): it starts from all ones, "
                         "not zeros, and software at locality 0 cannot extend it, so a "
                         "runtime log in it could never verify; use PCR 15 (the default)");
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
    std::unique_ptr<MeasurementPcr> pcr, std::vector<std::string> patterns, const Clock& clock,
    RuntimePcrOptions options) {
  if (pcr == nullptr) return MakeError(ErrorCode::kInvalidArgument, "no runtime PCR given");
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<RuntimeMeasurements> measurements,
                          Start(*pcr, std::move(patterns), clock, std::move(options)));
  measurements->owned_pcr_ = std::move(pcr);
  return measurements;
}

Result<std::unique_ptr<RuntimeMeasurements>> RuntimeMeasurements::Start(
    MeasurementPcr& pcr, std::vector<std::string> patterns, const Clock& clock,
    RuntimePcrOptions options) {
  ATTEST_RETURN_IF_ERROR(CheckRuntimePcrChoice(options.pcr, options.allow_resettable_pcr));
  if (pcr.index() != options.pcr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "runtime measurements are configured for PCR " + std::to_string(options.pcr) +
                         " but given PCR " + std::to_string(pcr.index()));
  }
  runtime::RuntimeLog log;
  log.pcr = options.pcr;
  Result<runtime::RuntimeLog> loaded = runtime::LoadRuntimeLog(options.log_path);
  if (loaded.ok()) {
    log = std::move(loaded).value();
  } else if (loaded.error().code != ErrorCode::kNotFound) {
    return loaded.error();
  }
  std::optional<PendingExtend> pending;
  if (!options.log_path.empty()) {
    ATTEST_ASSIGN_OR_RETURN(pending, LoadPendingExtend(PendingExtendPath(options.log_path)));
  }
  RuntimeMeasurerOptions measurer_options;
  measurer_options.pcr = options.pcr;
  measurer_options.log_path = options.log_path;
  measurer_options.max_log_bytes = options.max_log_bytes;
  measurer_options.hash = options.hash;
  ATTEST_ASSIGN_OR_RETURN(
      RuntimeMeasurer measurer,
      RuntimeMeasurer::Create(std::move(patterns), clock, std::move(log), measurer_options));
  std::unique_ptr<RuntimeMeasurements> measurements(
      new RuntimeMeasurements(pcr, clock, std::move(measurer), std::move(options)));
  ATTEST_ASSIGN_OR_RETURN(measurements->start_check_, measurements->CheckAndRecover(pending));
  return measurements;
}

Result<RuntimeLogCheck> RuntimeMeasurements::CheckAndRecover(std::optional<PendingExtend> pending) {
  const std::vector<runtime::RuntimeEntry>& entries = measurer_.log().entries;
  const std::string pending_path = PendingExtendPath(options_.log_path);
  RuntimeLogCheck check;
  check.entries = entries.size();
  check.replayed = runtime::Replay(entries);
  ATTEST_ASSIGN_OR_RETURN(Sha256Digest value, pcr_->ReadSha256());
  expected_pcr_ = value;
  check.pcr_value = Bytes(value.begin(), value.end());

  // A marker one past the log's end was written before a save that failed:
  // that entry was never logged nor extended.
  if (pending && pending->seq == entries.size() + 1) {
    (void)RemovePendingExtend(pending_path);
    pending.reset();
  }
  if (pending) {
    ATTEST_RETURN_IF_ERROR(ResolvePendingAtStart(*pending, value, check));
    return check;
  }
  if (value == check.replayed) return check;

  // The log could not be saved before attestd stopped, and the save-failed
  // marker standing for what it missed is in the PCR: put the marker back.
  runtime::RuntimeEntry marker = runtime::SaveFailedMarker(
      options_.pcr,
      "attestd found this marker in the PCR but not in its log at start: the log could not be "
      "saved before it stopped, and measurements after this point were not extended",
      FormatRfc3339Utc(clock_->Now()));
  if (value == ExtendedBy(check.replayed, marker)) {
    ATTEST_RETURN_IF_ERROR(measurer_.AppendUnsaved(marker));
    (void)measurer_.MarkExtended();  // it is in the PCR
    check.state = RuntimeLogCheck::State::kRecovered;
    check.replayed = value;
    check.detail = "the PCR holds a save-failed marker after the runtime log's " +
                   std::to_string(entries.size() - 1) + " entries; appended it to the log";
    if (Status saved = measurer_.SaveLog(); !saved.ok()) {
      check.detail += ", which still cannot be saved: " + saved.error().message;
    }
    return check;
  }
  check.state = RuntimeLogCheck::State::kMismatch;
  check.detail = "runtime log " + options_.log_path + " (" + std::to_string(entries.size()) +
                 " entries) replays to " + HexEncode(check.replayed) + " but PCR " +
                 std::to_string(options_.pcr) + " (sha256) is " + HexEncode(check.pcr_value) +
                 "; something else extended the PCR or the log was altered. The verifier "
                 "will report this node's runtime log as not replaying until reboot";
  return check;
}

Status RuntimeMeasurements::ResolvePendingAtStart(const PendingExtend& pending,
                                                  const Sha256Digest& pcr_value,
                                                  RuntimeLogCheck& check) {
  const std::vector<runtime::RuntimeEntry>& entries = measurer_.log().entries;
  const std::string pending_path = PendingExtendPath(options_.log_path);
  if (pending.seq != entries.size() ||
      pending.extend_digest != runtime::RuntimeExtendDigest(entries.back())) {
    return MakeError(ErrorCode::kCorrupt,
                     pending_path + ": names " + Seq(pending.seq) + " (extend digest " +
                         HexEncode(AsBytes(pending.extend_digest)) + ") but the runtime log's " +
                         "last entry is " + Seq(entries.size()) +
                         " with another digest; attestd did not write this pair");
  }
  const runtime::RuntimeEntry& last = entries.back();
  const Sha256Digest before =
      runtime::Replay(std::span<const runtime::RuntimeEntry>(entries.data(), entries.size() - 1));
  if (pcr_value == check.replayed) {
    // The extend happened; only the marker's removal did not.
    (void)RemovePendingExtend(pending_path);
    return OkStatus();
  }
  if (pcr_value == before) {
    ATTEST_RETURN_IF_ERROR(pcr_->Extend(runtime::RuntimeEventEncoding(last))
                               .WithContext("finish the pending extend of " + last.path));
    ATTEST_ASSIGN_OR_RETURN(Sha256Digest after, pcr_->ReadSha256());
    expected_pcr_ = after;
    check.pcr_value = Bytes(after.begin(), after.end());
    (void)RemovePendingExtend(pending_path);
    check.state = after == check.replayed ? RuntimeLogCheck::State::kRecovered
                                          : RuntimeLogCheck::State::kMismatch;
    check.detail = "the last runtime log entry (" + Seq(entries.size()) + ", " + last.path +
                   ") was saved but not extended; extended it now";
    return OkStatus();
  }
  check.state = RuntimeLogCheck::State::kMismatch;
  check.detail = "runtime log " + options_.log_path +
                 " has an extend pending for its last entry (" + Seq(entries.size()) +
                 "), but PCR " + std::to_string(options_.pcr) + " (sha256) is " +
                 HexEncode(check.pcr_value) +
                 ", which is neither the log's value without that entry nor with it; "
                 "something else extended the PCR or the log was altered";
  return OkStatus();
}

Status RuntimeMeasurements::ExtendLast(RuntimeUpdate& update) {
  const runtime::RuntimeEntry& entry = measurer_.log().entries.back();
  const std::size_t seq = measurer_.log().entries.size();
  Status extended = pcr_->Extend(runtime::RuntimeEventEncoding(entry));
  if (!extended.ok()) {
    return extended.error().WithContext("extend runtime measurement " + Seq(seq) + " (" +
                                        entry.path +
                                        "); it stays pending and is finished before anything "
                                        "new is logged");
  }
  expected_pcr_ = ExtendedBy(expected_pcr_, entry);
  if (Status marked = measurer_.MarkExtended(); !marked.ok()) {
    update.warnings.push_back("pending-extend marker not removed: " + marked.error().message);
  }
  update.extended.push_back(entry);
  return OkStatus();
}

Status RuntimeMeasurements::FinishPendingExtend(RuntimeUpdate& update) {
  if (!measurer_.extend_pending()) return OkStatus();
  const runtime::RuntimeEntry& last = measurer_.log().entries.back();
  const Sha256Digest after = ExtendedBy(expected_pcr_, last);
  ATTEST_ASSIGN_OR_RETURN(Sha256Digest value, pcr_->ReadSha256());
  if (value == after) {
    // The extend reported a failure but reached the PCR (its response was
    // lost): extending again would put the entry in twice.
    expected_pcr_ = after;
    if (Status marked = measurer_.MarkExtended(); !marked.ok()) {
      update.warnings.push_back("pending-extend marker not removed: " + marked.error().message);
    }
    return OkStatus();
  }
  if (value == expected_pcr_) return ExtendLast(update);
  return MakeError(ErrorCode::kVerificationFailed,
                   "runtime PCR " + std::to_string(options_.pcr) + " (sha256) is " +
                       HexEncode(AsBytes(value)) + ", neither " +
                       HexEncode(AsBytes(expected_pcr_)) + " (without the pending " +
                       Seq(measurer_.log().entries.size()) + ") nor " + HexEncode(AsBytes(after)) +
                       " (with it); something else extended the PCR. Nothing more is logged "
                       "until attestd restarts and reports the mismatch");
}

Status RuntimeMeasurements::RecordSaveFailure(const Error& error,
                                              const runtime::RuntimeEntry& unlogged,
                                              RuntimeUpdate& update) {
  update.log_save_error = error;
  std::string detail = "could not save the runtime log (" + error.message +
                       "); the measurement of " + unlogged.path +
                       " and any after it were not extended and are measured again on every "
                       "pass until the log can be saved";
  // The marker must be loggable whatever the error says (a configured log
  // path need not be UTF-8): it is what stands in for the lost entry.
  if (!IsValidUtf8(detail)) detail = EscapePathBytes(detail);
  runtime::RuntimeEntry marker =
      runtime::SaveFailedMarker(options_.pcr, std::move(detail), unlogged.time);
  ATTEST_RETURN_IF_ERROR(measurer_.AppendUnsaved(std::move(marker)));
  return ExtendLast(update);
}

Result<RuntimeUpdate> RuntimeMeasurements::MeasureAndExtend() {
  RuntimeUpdate update;
  ATTEST_RETURN_IF_ERROR(FinishPendingExtend(update));
  if (!measurer_.log_saved()) {
    if (Status saved = measurer_.SaveLog(); !saved.ok()) update.log_save_error = saved.error();
  }
  ATTEST_ASSIGN_OR_RETURN(RuntimeMeasurement measurement, measurer_.Measure());
  update.warnings.insert(update.warnings.end(), measurement.warnings.begin(),
                         measurement.warnings.end());
  for (runtime::RuntimeEntry& entry : measurement.new_entries) {
    // While the file lags behind (a save-failed marker not yet saved),
    // nothing new is logged: the marker in the PCR already says so.
    if (!measurer_.log_saved()) break;
    if (Status appended = measurer_.Append(entry); !appended.ok()) {
      ATTEST_RETURN_IF_ERROR(RecordSaveFailure(appended.error(), entry, update));
      break;
    }
    ATTEST_RETURN_IF_ERROR(ExtendLast(update));
  }
  return update;
}

}  // namespace attest::attestd
