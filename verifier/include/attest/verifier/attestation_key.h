// The attestation key a verifier checks quotes with: from the TPM2B_PUBLIC
// attestd (or `tpm2_createak -u`) exports, or from a PEM public key.
#pragma once

#include <optional>

#include <tss2/tss2_tpm2_types.h>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/openssl.h"

namespace attest::verifier {

struct AttestationKey {
  EvpPkeyPtr key;
  std::optional<TPMT_PUBLIC> public_area;  // absent for a PEM key
  Bytes name;                              // TPM name; empty for a PEM key
};

// A marshaled TPM2B_PUBLIC or a PEM SubjectPublicKeyInfo, told apart by the
// PEM header. A TPM public area must be an AK: see CheckAttestationKeyAttributes.
Result<AttestationKey> ParseAttestationKey(ByteView bytes);

// fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign and not
// decrypt (DESIGN §3): a key the TPM made, cannot export, and uses only to
// sign what the TPM itself produced. kInvalidArgument naming what is off.
Status CheckAttestationKeyAttributes(const TPMT_PUBLIC& public_area);

}  // namespace attest::verifier
