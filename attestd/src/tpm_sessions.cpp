// Salted sessions: the TPM 2.0 answer to an attacker on the bus between CPU
// and TPM (TPM 2.0 Part 1 §19.6, and TCG's guidance on bus protection). The
// salt is encrypted to a TPM key, so the session key, and with it every
// HMAC and parameter-encryption key, is known only to this process and the
// TPM.
#include "attest/attestd/tpm.h"
#include "attest/tpm/response_code.h"

#include "src/tpm_internal.h"

namespace attest::attestd {

Result<TpmHandle> Tpm::StartSession(ESYS_TR salt_key, const char* what) {
  TPMT_SYM_DEF symmetric{};
  symmetric.algorithm = TPM2_ALG_AES;
  symmetric.keyBits.aes = 128;
  symmetric.mode.aes = TPM2_ALG_CFB;
  ESYS_TR raw_session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(esys(), salt_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, nullptr, TPM2_SE_HMAC, &symmetric,
                                     TPM2_ALG_SHA256, &raw_session);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm::TpmError(rc, std::string("TPM2_StartAuthSession(HMAC, salted to ") + what + ")");
  }
  TpmHandle session(esys(), raw_session, TpmHandle::Release::kFlush);
  rc = Esys_TRSess_SetAttributes(esys(), session.get(), TPMA_SESSION_CONTINUESESSION, 0xff);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "Esys_TRSess_SetAttributes");
  return session;
}

Result<TpmHandle> Tpm::StartSaltedSession() {
  // The storage primary (ECC P-256) is cheap to derive on every TPM, unlike
  // an RSA EK, and the session outlives it: the salt is all it is for.
  ATTEST_ASSIGN_OR_RETURN(TpmHandle primary, CreateStoragePrimary());
  return StartSession(primary.get(), "the storage primary key");
}

}  // namespace attest::attestd
