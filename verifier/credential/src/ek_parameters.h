// What MakeCredential needs from an EK's public area, after checking that
// the area describes a key the TPM can activate credentials with.
#pragma once

#include <cstddef>

#include <tss2/tss2_tpm2_types.h>

#include "attest/error.h"
#include "attest/tpm/algorithms.h"

namespace attest::verifier::internal {

struct EkParameters {
  tpm::HashAlgorithm name_alg;      // seed size, KDFs, HMAC, OAEP
  const char* cipher_name;          // "AES-128-CFB" or "AES-256-CFB"
  std::size_t symmetric_key_bytes;  // 16 or 32
};

// `area` must be an RSA or ECC storage key: restricted, decrypt, not sign,
// no scheme, symmetric AES-CFB 128 or 256, nameAlg sha256/sha384/sha512.
// kInvalidArgument for a key of another kind, kUnsupported for an
// algorithm this build does not serve.
Result<EkParameters> CheckCredentialKey(const TPMT_PUBLIC& area);

}  // namespace attest::verifier::internal
