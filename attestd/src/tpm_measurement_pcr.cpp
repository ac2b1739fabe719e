#include "attest/attestd/tpm_measurement_pcr.h"

#include <algorithm>
#include <map>

#include "attest/tpm/algorithms.h"
#include "attest/tpm/pcr.h"

namespace attest::attestd {

Result<std::unique_ptr<TpmMeasurementPcr>> TpmMeasurementPcr::Create(Tpm& tpm,
                                                                     std::uint32_t index) {
  if (index >= tpm::kPcrCount) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "PCR " + std::to_string(index) + " does not exist");
  }
  ATTEST_ASSIGN_OR_RETURN(std::vector<std::uint16_t> banks, tpm.ActivePcrBanks());
  if (std::find(banks.begin(), banks.end(), TPM2_ALG_SHA256) == banks.end()) {
    return MakeError(ErrorCode::kUnsupported,
                     "the TPM has no active sha256 PCR bank, which the runtime log replays");
  }
  return std::unique_ptr<TpmMeasurementPcr>(new TpmMeasurementPcr(tpm, index, std::move(banks)));
}

Result<Sha256Digest> TpmMeasurementPcr::ReadSha256() {
  const tpm::PcrSelection selection{{{TPM2_ALG_SHA256, {index_}}}};
  ATTEST_ASSIGN_OR_RETURN(tpm::PcrValues values, tpm_->ReadPcrs(selection));
  const Bytes& value = values[TPM2_ALG_SHA256][index_];
  Sha256Digest digest{};
  if (value.size() != digest.size()) {
    return MakeError(ErrorCode::kTpm, "TPM2_PCR_Read returned " + std::to_string(value.size()) +
                                          " bytes for a sha256 PCR");
  }
  std::copy(value.begin(), value.end(), digest.begin());
  return digest;
}

Status TpmMeasurementPcr::Extend(ByteView event) {
  // Every active bank gets the event, each hashed with its own algorithm:
  // a bank left unextended would be free for anyone to set.
  std::map<std::uint16_t, Bytes> digests;
  for (std::uint16_t bank : banks_) {
    auto algorithm = tpm::HashAlgorithmById(bank);
    if (!algorithm) continue;  // a bank this build cannot hash (SM3): left alone
    ATTEST_ASSIGN_OR_RETURN(digests[bank], tpm::HashWith(*algorithm, event));
  }
  if (!session_) {
    ATTEST_ASSIGN_OR_RETURN(TpmHandle session, tpm_->StartSaltedSession());
    session_.emplace(std::move(session));
  }
  Status extended = tpm_->ExtendPcr(index_, digests, &*session_);
  // A session the TPM no longer knows (a TPM reset, a resource manager
  // that dropped it) or one whose nonces went out of step is no use for
  // the next command: start afresh then.
  if (!extended.ok()) session_.reset();
  return extended;
}

Result<std::unique_ptr<RuntimeMeasurements>> StartRuntimeMeasurements(
    Tpm& tpm, std::vector<std::string> patterns, const Clock& clock, RuntimePcrOptions options) {
  ATTEST_RETURN_IF_ERROR(CheckRuntimePcrChoice(options.pcr, options.allow_resettable_pcr));
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<TpmMeasurementPcr> pcr,
                          TpmMeasurementPcr::Create(tpm, options.pcr));
  return RuntimeMeasurements::Start(std::move(pcr), std::move(patterns), clock, std::move(options));
}

}  // namespace attest::attestd
