// The attestation key a verifier checks quotes with: from the TPM2B_PUBLIC
// attestd (or `tpm2_createak -u`) exports, whose attributes show it is an
// AK, or, only when an operator says so, from a bare PEM public key.
#pragma once

#include <optional>
#include <span>

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

struct AttestationKeyOptions {
  // A bare public key says nothing about where the private key lives: the
  // TPM could not have vouched that it only signs what the TPM produced.
  // Accepted only when an operator asks (`--allow-bare-ak`).
  bool allow_bare_public_key = false;
};

// A marshaled TPM2B_PUBLIC whose attributes make it an AK (see
// CheckAttestationKeyAttributes), or, with allow_bare_public_key, a PEM
// SubjectPublicKeyInfo, recognised by its first line alone. A file that is
// neither (malformed TPM2B_PUBLIC or PEM) is kCorrupt; a well-formed key this
// rule refuses (not an AK, a bare key without consent) is kInvalidArgument,
// naming what is wrong.
Result<AttestationKey> ParseAttestationKey(ByteView bytes, AttestationKeyOptions options = {});

// One object attribute a key must have set (required) or clear.
struct ObjectAttributeRule {
  TPMA_OBJECT bit;
  bool required;
  const char* name;  // "fixedTPM"
};
// The first rule `public_area` breaks (its bit is then !rule.required), or
// nullptr: one table check for the AK and for certified keys.
const ObjectAttributeRule* FirstBrokenAttributeRule(const TPMT_PUBLIC& public_area,
                                                    std::span<const ObjectAttributeRule> rules);

// fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign and not
// decrypt (docs/protocol.md §3.3): a key the TPM made, cannot export, and uses only to
// sign what the TPM itself produced. kInvalidArgument naming what is off.
Status CheckAttestationKeyAttributes(const TPMT_PUBLIC& public_area);

}  // namespace attest::verifier
