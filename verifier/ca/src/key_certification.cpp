#include "attest/verifier/key_certification.h"

#include <array>
#include <string>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "attest/encoding.h"
#include "attest/tpm/public_key.h"
#include "attest/tpm/signature.h"
#include "attest/verifier/quote.h"

namespace attest::verifier {
namespace {

Error Refused(std::string what) {
  return MakeError(ErrorCode::kVerificationFailed, "key certification: " + std::move(what));
}
Error Malformed(std::string what) {
  return MakeError(ErrorCode::kCorrupt, "key certification: " + std::move(what));
}

// A key the TPM made, cannot export, and may use to sign anything (a TLS
// handshake), but never to decrypt and never as an AK (docs/protocol.md §5).
Status CheckCertifiedKeyAttributes(const TPMT_PUBLIC& area) {
  static constexpr std::array<ObjectAttributeRule, 6> kRules = {{
      {TPMA_OBJECT_FIXEDTPM, true, "fixedTPM"},
      {TPMA_OBJECT_FIXEDPARENT, true, "fixedParent"},
      {TPMA_OBJECT_SENSITIVEDATAORIGIN, true, "sensitiveDataOrigin"},
      {TPMA_OBJECT_SIGN_ENCRYPT, true, "sign"},
      {TPMA_OBJECT_RESTRICTED, false, "restricted"},
      {TPMA_OBJECT_DECRYPT, false, "decrypt"},
  }};
  if (const ObjectAttributeRule* broken = FirstBrokenAttributeRule(area, kRules)) {
    return Refused(std::string("the certified key's attribute ") + broken->name + " is " +
                   (broken->required ? "clear" : "set") + "; it must be " +
                   (broken->required ? "set" : "clear"));
  }
  if (area.type != TPM2_ALG_ECC || area.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
    return Refused("the certified key is not an ECC P-256 key");
  }
  return OkStatus();
}

Status CheckSameKey(const TPMT_PUBLIC& area, ByteView csr_public_key_der) {
  const unsigned char* cursor = csr_public_key_der.data();
  EvpPkeyPtr csr_key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(csr_public_key_der.size())));
  if (!csr_key || cursor != csr_public_key_der.data() + csr_public_key_der.size()) {
    ERR_clear_error();
    return MakeError(ErrorCode::kInvalidArgument,
                     "key certification: the CSR's public key is not one DER SubjectPublicKeyInfo");
  }
  Result<EvpPkeyPtr> tpm_key = tpm::PublicKeyFromTpm(area);
  if (!tpm_key.ok()) return Malformed("the certified key: " + tpm_key.error().message);
  if (EVP_PKEY_eq(tpm_key->get(), csr_key.get()) != 1) {
    ERR_clear_error();
    return Refused("the certified key is not the CSR's key");
  }
  return OkStatus();
}

}  // namespace

Status CheckKeyCertification(const KeyCertification& proof, const AttestationKey& attestation_key,
                             ByteView nonce, ByteView csr_public_key_der) {
  if (nonce.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "key certification: no challenge nonce given");
  }
  Result<TPM2B_PUBLIC> key_public = tpm::ParsePublic(proof.key_public);
  if (!key_public.ok()) return Malformed("public: " + key_public.error().message);
  Result<CertifyInfo> certify = ParseCertify(proof.attest);
  if (!certify.ok()) return Malformed("attest: " + certify.error().message);
  Result<TPMT_SIGNATURE> signature = tpm::ParseSignature(proof.signature);
  if (!signature.ok()) return Malformed("signature: " + signature.error().message);

  // The AK signed exactly these bytes: from here on, what they say is the TPM's word.
  if (Status verified = tpm::VerifySignature(attestation_key.key.get(), proof.attest, *signature);
      !verified.ok()) {
    return Refused("not signed by this node's AK: " + verified.error().message);
  }
  if (certify->extra_data != Bytes(nonce.begin(), nonce.end())) {
    return Refused("made for nonce " + HexEncode(certify->extra_data) + ", the challenge was " +
                   HexEncode(nonce));
  }
  Result<Bytes> name = tpm::ObjectName(key_public->publicArea);
  if (!name.ok()) return Malformed("public: " + name.error().message);
  if (certify->name != *name) {
    return Refused("it certifies the object named " + HexEncode(certify->name) +
                   ", not the given key (" + HexEncode(*name) + ")");
  }
  ATTEST_RETURN_IF_ERROR(CheckCertifiedKeyAttributes(key_public->publicArea));
  return CheckSameKey(key_public->publicArea, csr_public_key_der);
}

}  // namespace attest::verifier
