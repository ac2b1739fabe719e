// A MeasurementPcr that hands everything to a real one (a TpmMeasurementPcr
// on the test's swtpm) except the extend faults a test arms.
//
// Why a fake here, and only here: swtpm cannot be made to fail one
// TPM2_PCR_Extend on demand, nor to carry an extend out and lose its
// response, and those are exactly the faults RuntimeMeasurements must
// survive without a gap or a double extend in the PCR. Reads and every
// extend that is not armed to fail reach the real TPM.
#pragma once

#include "attest/attestd/measurement_pcr.h"

namespace attest::testing {

class FaultInjectingPcr final : public MeasurementPcr {
 public:
  enum class Fault {
    kLostRequest,   // fails without reaching the TPM
    kLostResponse,  // the TPM extends; the caller is told it failed
  };

  explicit FaultInjectingPcr(MeasurementPcr& real) : real_(&real) {}

  // The next `count` extends fail with `fault`.
  void FailNextExtends(Fault fault, int count = 1) {
    fault_ = fault;
    failures_left_ = count;
  }
  int extends_attempted() const { return extends_attempted_; }

  std::uint32_t index() const override { return real_->index(); }
  Result<Sha256Digest> ReadSha256() override { return real_->ReadSha256(); }
  Status Extend(ByteView event) override {
    ++extends_attempted_;
    if (failures_left_ == 0) return real_->Extend(event);
    --failures_left_;
    if (fault_ == Fault::kLostResponse) {
      Status extended = real_->Extend(event);
      if (!extended.ok()) return extended;
    }
    return MakeError(ErrorCode::kTpm, "TPM2_PCR_Extend: injected fault (no response)");
  }

 private:
  MeasurementPcr* real_;
  Fault fault_ = Fault::kLostRequest;
  int failures_left_ = 0;
  int extends_attempted_ = 0;
};

}  // namespace attest::testing
