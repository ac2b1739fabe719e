// Binds runtime measurements to the runtime PCR (DESIGN §2, §4), through
// the narrow MeasurementPcr interface (no TPM library here): checks the choice
// of PCR, checks at start that the runtime log replays to the PCR (finishing
// an extend that a crash or a TPM failure left pending), and then records
// each new measurement in the log before extending it into every active
// bank. Every outcome reaches the PCR: a measurement the log cannot take is
// replaced by a save-failed marker that is extended (runtime/FORMAT.md §6).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/attestd/measurement_pcr.h"
#include "attest/attestd/runtime_measurer.h"
#include "attest/attestd/runtime_pending.h"
#include "attest/clock.h"

namespace attest::attestd {

struct RuntimePcrOptions {
  std::uint32_t pcr = runtime::kDefaultRuntimePcr;
  // PCRs 16 and 23 can be reset from software; using one needs this, and
  // still earns a warning.
  bool allow_resettable_pcr = false;
  std::string log_path = std::string(runtime::kDefaultRuntimeLogPath);
  // The saved log's size cap (tests lower it to make a save fail).
  std::size_t max_log_bytes = runtime::kMaxRuntimeLogBytes;
  HashOptions hash;
};

// nullopt when `pcr` is a sound choice; a warning text when it is allowed
// but weak; an error (kInvalidArgument) when it must not be used: a PCR
// that does not exist, 16 or 23 unless allowed, and 17-22 always (their
// reset value is all ones and locality 0 cannot extend them).
Result<std::optional<std::string>> CheckRuntimePcrChoice(std::uint32_t pcr,
                                                         bool allow_resettable_pcr);

// What the start-up replay check found.
struct RuntimeLogCheck {
  enum class State {
    kConsistent,  // the log replays to the PCR
    kRecovered,   // a pending extend was finished, or a save-failed marker
                  // the PCR holds was put back into the log
    kMismatch,    // neither: reported, never papered over
  };
  State state = State::kConsistent;
  std::size_t entries = 0;  // in the log as loaded
  Bytes pcr_value;          // sha256 bank, read from the TPM after any recovery
  Sha256Digest replayed{};  // what the log (after any recovery) replays to
  std::string detail;       // for kMismatch and kRecovered, a sentence for the log
};

// One pass of MeasureAndExtend.
struct RuntimeUpdate {
  // Entries extended in this pass, in order: a pending one finished first,
  // new measurements, a save-failed marker.
  std::vector<runtime::RuntimeEntry> extended;
  std::vector<std::string> warnings;  // globs that matched nothing, and the like
  // Why the log could not be saved in this pass, if it could not: the log
  // in memory (log()) then holds a save-failed marker that is in the PCR
  // while the file lags behind, and measurements that were not logged are
  // measured again on every pass until the file can be written.
  std::optional<Error> log_save_error;
};

class RuntimeMeasurements {
 public:
  // As below, on a PCR it owns (a TpmMeasurementPcr: see
  // StartRuntimeMeasurements in tpm_measurement_pcr.h).
  static Result<std::unique_ptr<RuntimeMeasurements>> Start(std::unique_ptr<MeasurementPcr> pcr,
                                                            std::vector<std::string> patterns,
                                                            const Clock& clock,
                                                            RuntimePcrOptions options = {});
  // Loads the log (none yet since boot is fine) and its pending-extend
  // marker, checks both against `pcr` (whose index must be options.pcr)
  // and repairs what runtime/FORMAT.md §6 says is repairable. `pcr` and `clock`
  // must outlive it.
  static Result<std::unique_ptr<RuntimeMeasurements>> Start(MeasurementPcr& pcr,
                                                            std::vector<std::string> patterns,
                                                            const Clock& clock,
                                                            RuntimePcrOptions options = {});

  // First finishes a pending extend (an error if that fails again: nothing
  // new is logged while the PCR lacks an entry of the log), then hashes
  // every configured file; each new event is saved to the log with its
  // pending-extend marker, then extended. If the log cannot be saved, a
  // save-failed marker is extended in its place (once per failure
  // episode) and the pass stops. If an extend fails the error is returned
  // and the entry stays pending. After any error the in-memory log may be
  // stale and still replay (nothing new was extended): the caller must not
  // answer a challenge until a pass succeeds.
  Result<RuntimeUpdate> MeasureAndExtend();

  const RuntimeLogCheck& start_check() const { return start_check_; }
  // The log as attestd knows it, which is what evidence must carry: it may
  // be ahead of the file (after a failed save), never behind.
  const runtime::RuntimeLog& log() const { return measurer_.log(); }
  // Whether the log's last entry may be missing from the PCR.
  bool extend_pending() const { return measurer_.extend_pending(); }

 private:
  RuntimeMeasurements(MeasurementPcr& pcr, const Clock& clock, RuntimeMeasurer measurer,
                      RuntimePcrOptions options)
      : pcr_(&pcr), clock_(&clock), measurer_(std::move(measurer)), options_(std::move(options)) {}
  Result<RuntimeLogCheck> CheckAndRecover(std::optional<PendingExtend> pending);
  Status ResolvePendingAtStart(const PendingExtend& pending, const Sha256Digest& pcr_value,
                               RuntimeLogCheck& check);
  Status FinishPendingExtend(RuntimeUpdate& update);
  Status RecordSaveFailure(const Error& error, const runtime::RuntimeEntry& unlogged,
                           RuntimeUpdate& update);
  // Extends the log's last entry and clears its pending state.
  Status ExtendLast(RuntimeUpdate& update);

  MeasurementPcr* pcr_;
  std::unique_ptr<MeasurementPcr> owned_pcr_;
  const Clock* clock_;
  RuntimeMeasurer measurer_;
  RuntimePcrOptions options_;
  // The sha256 value the PCR holds when every entry of the log but a
  // pending one is in it.
  Sha256Digest expected_pcr_{};
  RuntimeLogCheck start_check_;
};

}  // namespace attest::attestd
