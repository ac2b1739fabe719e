// Checks a TPM's signature (TPMT_SIGNATURE: ECDSA, RSASSA or RSAPSS) over
// bytes the TPM produced, such as a quote's TPMS_ATTEST, with the signing
// key's OpenSSL public key.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/openssl.h"

namespace attest::tpm {

// A marshaled TPMT_SIGNATURE, strictly (trailing bytes are kCorrupt).
Result<TPMT_SIGNATURE> ParseSignature(ByteView marshaled);

// kVerificationFailed when the signature does not verify over exactly
// `signed_bytes`; kUnsupported for a scheme or hash this build refuses
// (SHA-1 among them), or one that does not fit the key's type.
Status VerifySignature(EVP_PKEY* key, ByteView signed_bytes, const TPMT_SIGNATURE& signature);

}  // namespace attest::tpm
