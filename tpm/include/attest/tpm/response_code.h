// TPM response codes in errors: the one way the TPM layer turns a failed
// tpm2-tss call into an attest::Error that keeps the code, and the questions
// callers ask of it: is the TPM in dictionary-attack lockout, was an
// authorization wrong, or is the TPM busy and worth asking again?
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "attest/error.h"

namespace attest::tpm {

// kTpm error "<operation>: <decoded rc> (0x%08x)" with tpm_response_code =
// rc; for TPM_RC_LOCKOUT the message also says what lockout means.
Error TpmError(std::uint32_t rc, std::string_view operation);

// The TPM's own response code within a TSS2_RC: the code when it came from
// the TPM (TSS layer 0) or was passed on by a resource manager
// (TSS2_RESMGR_TPM_RC_LAYER), without the layer; nullopt for codes made up
// by a software layer (ESYS, MU, a TCTI) and for success.
std::optional<std::uint32_t> TpmResponseCode(std::uint32_t tss2_rc);

// A TPM response code without the parameter, handle or session number of a
// format-one code (TPM 2.0 Part 2, 6.6.3): TPM_RC_BAD_AUTH + session 1
// (0x9a2) is TPM_RC_BAD_AUTH (0x0a2). Format-zero codes are returned as they
// are.
std::uint32_t BaseResponseCode(std::uint32_t tpm_rc);

// TPM_RC_LOCKOUT: the TPM refuses authorizations of DA-protected objects
// until it recovers or the lockout hierarchy resets it.
bool IsLockout(const Error& error);
// TPM_RC_AUTH_FAIL or TPM_RC_BAD_AUTH (for any parameter, handle or
// session): the authorization value or HMAC was wrong.
bool IsAuthorizationFailure(const Error& error);
// TPM_RC_RETRY, TPM_RC_YIELDED or TPM_RC_TESTING: the TPM did not run the
// command now and the same command may succeed later.
bool IsRetryable(const Error& error);

}  // namespace attest::tpm
