// A MeasurementPcr that fails on demand, for the runtime measurement tests:
// over a real PCR (a TpmMeasurementPcr on the test's swtpm), or, for the
// unit tests that run without a TPM, over a sha256 bank kept in memory.
//
// Why a fake here, and only here: no TPM, swtpm included, can be made to
// fail one TPM2_PCR_Extend on demand, to carry an extend out and lose its
// response, or to outlive a daemon killed between saving its log and
// extending; and those are exactly the faults RuntimeMeasurements must
// survive without a gap or a double extend in the PCR. The in-memory bank
// is the TPM's extend rule for sha256 and nothing more
// (PCR_new = SHA-256(PCR_old || SHA-256(event))); the swtpm tests check the
// same paths against a real TPM, whose other banks the logic never reads.
#pragma once

#include <csignal>
#include <cstdint>
#include <optional>

#include "attest/attestd/measurement_pcr.h"
#include "attest/sha256.h"

namespace attest::test {

class FaultInjectingPcr final : public attestd::MeasurementPcr {
 public:
  enum class Fault {
    kLostRequest,   // fails without reaching the PCR
    kLostResponse,  // the PCR is extended; the caller is told it failed
    kKillProcess,   // the process is killed (SIGKILL) before the PCR is reached
  };

  // Every read, and every extend not armed to fail, reaches `real`.
  explicit FaultInjectingPcr(attestd::MeasurementPcr& real) : real_(&real) {}
  // A sha256 bank in memory for PCR `index`, holding `value`.
  FaultInjectingPcr(std::uint32_t index, const Sha256Digest& value)
      : index_(index), value_(value) {}

  // The next `count` extends fail with `fault`.
  void FailNextExtends(Fault fault, int count = 1) {
    fault_ = fault;
    failures_left_ = count;
  }
  int extends_attempted() const { return extends_attempted_; }
  // Extends that reached the PCR (whatever the caller was told).
  int extends_done() const { return extends_done_; }

  std::uint32_t index() const override { return real_ ? real_->index() : index_; }
  Result<Sha256Digest> ReadSha256() override {
    if (real_) return real_->ReadSha256();
    return *value_;
  }
  Status Extend(ByteView event) override {
    ++extends_attempted_;
    if (failures_left_ == 0) return ExtendForReal(event);
    --failures_left_;
    if (fault_ == Fault::kKillProcess) std::raise(SIGKILL);
    if (fault_ == Fault::kLostResponse) {
      Status extended = ExtendForReal(event);
      if (!extended.ok()) return extended;
    }
    return MakeError(ErrorCode::kTpm, "TPM2_PCR_Extend: injected fault (no response)");
  }

 private:
  Status ExtendForReal(ByteView event) {
    if (real_) {
      Status extended = real_->Extend(event);
      if (extended.ok()) ++extends_done_;
      return extended;
    }
    const Sha256Digest digest = Sha256Of(event);
    Sha256 hasher;
    value_ = hasher.Update(AsBytes(*value_)).Update(AsBytes(digest)).Finish();
    ++extends_done_;
    return OkStatus();
  }

  attestd::MeasurementPcr* real_ = nullptr;
  std::uint32_t index_ = 0;
  std::optional<Sha256Digest> value_;
  Fault fault_ = Fault::kLostRequest;
  int failures_left_ = 0;
  int extends_attempted_ = 0;
  int extends_done_ = 0;
};

}  // namespace attest::test
