// The proof that a CSR's key lives in the node's TPM: TPM2_Certify of that
// key by the node's AK (docs/protocol.md §5, verifier/FORMAT.md §1). A
// certificate is issued only for a key this check accepts, or, where the
// policy allows file keys, with the proof absent.
#pragma once

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/evidence.h"

namespace attest::verifier {

// `proof` is the evidence's key_certification: the certified key's
// TPM2B_PUBLIC (`public`), the TPMS_ATTEST the AK signed and its signature.
// Accepts only when all hold: the attest parses (magic TPM_GENERATED_VALUE,
// type TPM_ST_ATTEST_CERTIFY); the AK's signature over the exact attest
// bytes verifies; extraData equals `nonce` (this challenge, so an old proof
// cannot be replayed); attested.certify.name equals the name of
// `key_public`; the key's attributes are fixedTPM, fixedParent,
// sensitiveDataOrigin, sign, not restricted, not decrypt; it is an ECC
// P-256 key whose point equals the CSR's key (`csr_public_key_der`,
// SubjectPublicKeyInfo DER). Failures are kVerificationFailed (or kCorrupt
// for bytes that do not parse) with a message naming the check.
Status CheckKeyCertification(const KeyCertification& proof,
                             const AttestationKey& attestation_key, ByteView nonce,
                             ByteView csr_public_key_der);

// The SubjectPublicKeyInfo DER of a PKCS#10 PEM request, after checking its
// self-signature. kInvalidArgument when it does not parse or verify.
Result<Bytes> CsrPublicKey(std::string_view csr_pem);

}  // namespace attest::verifier
