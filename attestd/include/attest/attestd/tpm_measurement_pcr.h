// The TPM side of runtime measurements: the runtime PCR on a real TPM
// (through attestd's Tpm), and RuntimeMeasurements started on it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/attestd/measurement_pcr.h"
#include "attest/attestd/runtime_pcr.h"
#include "attest/attestd/tpm.h"
#include "attest/clock.h"

namespace attest::attestd {

// MeasurementPcr on a TPM. The active banks are read once, at Create.
// Extends are authorized through a salted HMAC session
// (Tpm::StartSaltedSession), started at the first extend, kept for the
// object's life and started again after any failure. Not thread-safe.
class TpmMeasurementPcr final : public MeasurementPcr {
 public:
  // `tpm` must outlive the result.
  static Result<std::unique_ptr<TpmMeasurementPcr>> Create(Tpm& tpm, std::uint32_t index);

  std::uint32_t index() const override { return index_; }
  Result<Sha256Digest> ReadSha256() override;
  Status Extend(ByteView event) override;

 private:
  TpmMeasurementPcr(Tpm& tpm, std::uint32_t index, std::vector<std::uint16_t> banks)
      : tpm_(&tpm), index_(index), banks_(std::move(banks)) {}

  Tpm* tpm_;
  std::uint32_t index_;
  std::vector<std::uint16_t> banks_;
  std::optional<TpmHandle> session_;
};

// Checks the PCR choice, then starts RuntimeMeasurements (runtime_pcr.h)
// on a TpmMeasurementPcr for options.pcr, which it owns. `tpm` and `clock`
// must outlive the result.
Result<std::unique_ptr<RuntimeMeasurements>> StartRuntimeMeasurements(
    Tpm& tpm, std::vector<std::string> patterns, const Clock& clock,
    RuntimePcrOptions options = {});

}  // namespace attest::attestd
