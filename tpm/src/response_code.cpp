#include "attest/tpm/response_code.h"

#include <array>
#include <cstdio>
#include <string>

#include <tss2/tss2_common.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

namespace attest::tpm {
namespace {

// Bits 16-23 of a TSS2_RC name the layer that made it (TSS2_RC_LAYER_MASK).
constexpr std::uint32_t kLayerMask = TSS2_RC_LAYER_MASK;
// Format-one codes: bit 7 set, the error number in bits 0-5; bit 6 and
// bits 8-11 say which parameter, handle or session it is about.
constexpr std::uint32_t kFormatOneNumberMask = 0x3f;

std::optional<std::uint32_t> BaseCodeOf(const Error& error) {
  if (!error.tpm_response_code) return std::nullopt;
  std::optional<std::uint32_t> tpm_rc = TpmResponseCode(*error.tpm_response_code);
  if (!tpm_rc) return std::nullopt;
  return BaseResponseCode(*tpm_rc);
}

}  // namespace

Error TpmError(std::uint32_t rc, std::string_view operation) {
  std::array<char, 16> hex{};
  (void)std::snprintf(hex.data(), hex.size(), "0x%08x", rc);
  std::string message =
      std::string(operation) + ": " + Tss2_RC_Decode(rc) + " (" + hex.data() + ")";
  Error error = MakeError(ErrorCode::kTpm, "");
  error.tpm_response_code = rc;
  if (IsLockout(error)) {
    message +=
        ": the TPM is in dictionary-attack lockout (TPM_RC_LOCKOUT) after too many failed "
        "authorizations, and refuses every authorization of an object without noDA until "
        "it recovers (TPM_PT_LOCKOUT_RECOVERY) or is reset with the lockout authorization "
        "(tpm2_dictionarylockout --clear-lockout)";
  }
  error.message = std::move(message);
  return error;
}

std::optional<std::uint32_t> TpmResponseCode(std::uint32_t tss2_rc) {
  if (tss2_rc == TSS2_RC_SUCCESS) return std::nullopt;
  const std::uint32_t layer = tss2_rc & kLayerMask;
  if (layer != TSS2_TPM_RC_LAYER && layer != TSS2_RESMGR_TPM_RC_LAYER) return std::nullopt;
  return tss2_rc & ~kLayerMask;
}

std::uint32_t BaseResponseCode(std::uint32_t tpm_rc) {
  if ((tpm_rc & TPM2_RC_FMT1) != 0) return tpm_rc & (TPM2_RC_FMT1 | kFormatOneNumberMask);
  return tpm_rc;
}

bool IsLockout(const Error& error) { return BaseCodeOf(error) == TPM2_RC_LOCKOUT; }

bool IsAuthorizationFailure(const Error& error) {
  std::optional<std::uint32_t> base = BaseCodeOf(error);
  return base == TPM2_RC_AUTH_FAIL || base == TPM2_RC_BAD_AUTH;
}

bool IsRetryable(const Error& error) {
  std::optional<std::uint32_t> base = BaseCodeOf(error);
  return base == TPM2_RC_RETRY || base == TPM2_RC_YIELDED || base == TPM2_RC_TESTING;
}

}  // namespace attest::tpm
