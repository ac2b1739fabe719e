// TPM2_MakeCredential in software (TPM 2.0 Part 1 §24, Part 3 §12.6): the
// verifier wraps a secret so that only the TPM holding `ek_public` can
// recover it, and only for the key named `object_name` (enrollment,
// docs/protocol.md §3.4). Stateless and thread-safe.
#pragma once

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest::verifier {

// What TPM2_ActivateCredential takes, in TPM wire form.
struct Credential {
  Bytes credential_blob;   // marshaled TPM2B_ID_OBJECT
  Bytes encrypted_secret;  // marshaled TPM2B_ENCRYPTED_SECRET
};

// `ek_public`: a marshaled TPM2B_PUBLIC of an RSA (2048-4096) or ECC
// (P-256, P-384, P-521) storage key: restricted, decrypt, not sign, with an
// AES-CFB symmetric (128 or 256 bits, as the TCG EK templates have) and a
// sha256/sha384/sha512 nameAlg. `secret`: 1 to digest-size(nameAlg) bytes.
// `object_name`: a TPM name (alg id || digest), e.g. the AK's.
// Errors: kCorrupt (ek_public does not parse), kInvalidArgument (not a
// storage key, bad secret or name size), kUnsupported (another algorithm),
// kCrypto (OpenSSL failed).
Result<Credential> MakeCredential(ByteView ek_public, ByteView secret, ByteView object_name);

}  // namespace attest::verifier
