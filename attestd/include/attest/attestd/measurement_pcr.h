// The one PCR runtime measurements go into, as RuntimeMeasurements needs it
// and no more: read its sha256 value, extend an event into every active
// bank. This is the seam between the measurement logic and the TPM (like
// leveldb's Env): tests wrap the real one to inject faults a TPM cannot be
// made to produce on demand (an extend that fails, or that happens and
// loses its response).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "attest/attestd/tpm.h"
#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/sha256.h"

namespace attest {

class MeasurementPcr {
 public:
  virtual ~MeasurementPcr() = default;

  virtual std::uint32_t index() const = 0;
  // The PCR's value in the sha256 bank (the bank the runtime log replays).
  virtual Result<Sha256Digest> ReadSha256() = 0;
  // Extends the PCR, in every active bank, with the hash of `event` (the
  // runtime/FORMAT.md §2 bytes) under that bank's algorithm. After a failure the
  // extend may or may not have happened (a response lost on the way back
  // looks like a failure): the caller reads the PCR to find out.
  virtual Status Extend(ByteView event) = 0;
};

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

}  // namespace attest
