// The one PCR runtime measurements go into, as RuntimeMeasurements needs it
// and no more: read its sha256 value, extend an event into every active
// bank. This is the seam between the measurement logic and the TPM layer
// (TpmMeasurementPcr, tpm_measurement_pcr.h): the logic links no TPM
// library, and tests put a fault-injecting PCR in its place to produce
// faults a TPM cannot be made to produce on demand (an extend that fails,
// or that happens and loses its response).
#pragma once

#include <cstdint>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/sha256.h"

namespace attest::attestd {

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

}  // namespace attest::attestd
