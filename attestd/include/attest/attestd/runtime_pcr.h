// Binds runtime measurements to the TPM (DESIGN §2, §4): checks the choice
// of PCR, checks at start that the runtime log replays to the PCR (finishing
// an extend that a crash interrupted), and then records each new
// measurement in the log before extending it into every active bank.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/attestd/runtime_measurer.h"
#include "attest/attestd/tpm.h"
#include "attest/clock.h"

namespace attest {

struct RuntimePcrOptions {
  std::uint32_t pcr = kDefaultRuntimePcr;
  // PCRs 16 and 23 can be reset from software; using one needs this, and
  // still earns a warning.
  bool allow_resettable_pcr = false;
  std::string log_path = std::string(kDefaultRuntimeLogPath);
  HashOptions hash;
};

// nullopt when `pcr` is a sound choice; a warning text when it is allowed
// but weak; an error (kInvalidArgument) when it must not be used.
Result<std::optional<std::string>> CheckRuntimePcrChoice(std::uint32_t pcr,
                                                         bool allow_resettable_pcr);

// What the start-up replay check found.
struct RuntimeLogCheck {
  enum class State {
    kConsistent,  // the log replays to the PCR
    kRecovered,   // the last entry was saved but not extended; it is now
    kMismatch,    // neither: reported, never papered over
  };
  State state = State::kConsistent;
  std::size_t entries = 0;
  Bytes pcr_value;          // sha256 bank, read from the TPM after any recovery
  Sha256Digest replayed{};  // what the log replays to
  std::string detail;       // for kMismatch and kRecovered, a sentence for the log
};

// One pass of MeasureAndExtend.
struct RuntimeUpdate {
  std::vector<RuntimeEntry> extended;  // appended to the log and extended, in order
  std::vector<std::string> warnings;   // globs that matched nothing, and the like
};

class RuntimeMeasurements {
 public:
  // Loads the log (none yet since boot is fine), checks it against the PCR
  // and keeps the TPM for later passes; `tpm` and `clock` must outlive it.
  static Result<std::unique_ptr<RuntimeMeasurements>> Start(Tpm& tpm,
                                                            std::vector<std::string> patterns,
                                                            const Clock& clock,
                                                            RuntimePcrOptions options = {});

  // Hashes every configured file; each new event is saved to the log, then
  // extended. If an extend fails, the log is one entry ahead of the PCR,
  // which the next Start repairs (kRecovered).
  Result<RuntimeUpdate> MeasureAndExtend();

  const RuntimeLogCheck& start_check() const { return start_check_; }
  const RuntimeLog& log() const { return measurer_.log(); }

 private:
  RuntimeMeasurements(Tpm& tpm, RuntimeMeasurer measurer, RuntimePcrOptions options)
      : tpm_(&tpm), measurer_(std::move(measurer)), options_(std::move(options)) {}
  Status Extend(const RuntimeEntry& entry);
  Result<RuntimeLogCheck> CheckAndRecover();

  Tpm* tpm_;
  RuntimeMeasurer measurer_;
  RuntimePcrOptions options_;
  std::vector<std::uint16_t> banks_;
  RuntimeLogCheck start_check_;
};

}  // namespace attest
