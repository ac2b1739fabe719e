// Keys under the storage primary: attestd keeps them as TPM2B_PUBLIC +
// TPM2B_PRIVATE blobs (sealed to this TPM) and loads them for each use, so
// nothing occupies an object slot or an NV persistent handle between uses.
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "attest/attestd/tpm.h"
#include "attest/openssl.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/response_code.h"

#include "src/tpm_internal.h"

namespace attest::attestd {

Result<TpmHandle> Tpm::CreateStoragePrimary() {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC in_public = StoragePrimaryTemplate();
  TPM2B_DATA outside_info{};
  TPML_PCR_SELECTION creation_pcrs{};
  ESYS_TR handle = ESYS_TR_NONE;
  TSS2_RC rc = Esys_CreatePrimary(esys(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &sensitive, &in_public, &outside_info,
                                  &creation_pcrs, &handle, nullptr, nullptr, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm::TpmError(rc, "TPM2_CreatePrimary(owner storage key; is an owner password set?)");
  }
  return TpmHandle(esys(), handle, TpmHandle::Release::kFlush);
}

Result<std::vector<TpmHandle>> Tpm::LoadKeys(const std::vector<const KeyBlob*>& keys) {
  std::vector<std::pair<TPM2B_PUBLIC, TPM2B_PRIVATE>> parsed;
  for (const KeyBlob* key : keys) {
    ATTEST_ASSIGN_OR_RETURN(
        TPM2B_PUBLIC public_area,
        tpm::Unmarshal<TPM2B_PUBLIC>(key->public_area, Tss2_MU_TPM2B_PUBLIC_Unmarshal,
                                     "key TPM2B_PUBLIC"));
    ATTEST_ASSIGN_OR_RETURN(
        TPM2B_PRIVATE private_area,
        tpm::Unmarshal<TPM2B_PRIVATE>(key->private_area, Tss2_MU_TPM2B_PRIVATE_Unmarshal,
                                      "key TPM2B_PRIVATE"));
    parsed.emplace_back(public_area, private_area);
  }
  // The primary is flushed as soon as its children are loaded: a loaded
  // child does not need its parent.
  ATTEST_ASSIGN_OR_RETURN(TpmHandle parent, CreateStoragePrimary());
  std::vector<TpmHandle> loaded;
  for (const auto& [public_area, private_area] : parsed) {
    ESYS_TR handle = ESYS_TR_NONE;
    TSS2_RC rc = Esys_Load(esys(), parent.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &private_area, &public_area, &handle);
    if (rc != TSS2_RC_SUCCESS) {
      return tpm::TpmError(rc, "TPM2_Load (was the key created by this TPM, before a TPM clear?)");
    }
    loaded.emplace_back(esys(), handle, TpmHandle::Release::kFlush);
  }
  return loaded;
}

Result<KeyBlob> Tpm::CreateKey(const TPM2B_PUBLIC& key_template, const char* what) {
  ATTEST_ASSIGN_OR_RETURN(TpmHandle parent, CreateStoragePrimary());
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside_info{};
  TPML_PCR_SELECTION creation_pcrs{};
  TPM2B_PRIVATE* raw_private = nullptr;
  TPM2B_PUBLIC* raw_public = nullptr;
  TSS2_RC rc = Esys_Create(esys(), parent.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &sensitive, &key_template, &outside_info, &creation_pcrs, &raw_private,
                           &raw_public, nullptr, nullptr, nullptr);
  EsysPtr<TPM2B_PRIVATE> out_private(raw_private);
  EsysPtr<TPM2B_PUBLIC> out_public(raw_public);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, std::string("TPM2_Create(") + what + ")");
  return KeyBlob{tpm::Marshal(*out_public, Tss2_MU_TPM2B_PUBLIC_Marshal),
                 tpm::Marshal(*out_private, Tss2_MU_TPM2B_PRIVATE_Marshal)};
}

Result<KeyBlob> Tpm::CreateAttestationKey(AkAlgorithm algorithm) {
  return CreateKey(AttestationKeyTemplate(algorithm), "attestation key");
}

Result<KeyBlob> Tpm::CreateSigningKey() { return CreateKey(SigningKeyTemplate(), "signing key"); }

namespace {

// DER of one ASN.1 value written by OpenSSL's i2d_* function.
template <typename T>
Result<Bytes> ToDer(T* value, int (*encode)(const T*, unsigned char**)) {
  int length = encode(value, nullptr);
  if (length <= 0) return OpensslError("DER-encode TSS2 key field");
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  encode(value, &out);
  return der;
}

void AppendHeader(Bytes& out, int tag, int tag_class, std::size_t length) {
  Bytes header(8);
  unsigned char* cursor = header.data();
  ASN1_put_object(&cursor, 1, static_cast<int>(length), tag, tag_class);
  out.insert(out.end(), header.data(), cursor);
}

}  // namespace

// TSSPRIVKEY ::= SEQUENCE { type OBJECT IDENTIFIER (id-loadablekey),
//   emptyAuth [0] EXPLICIT BOOLEAN, parent INTEGER,
//   pubkey OCTET STRING, privkey OCTET STRING }   (the TPM 2.0 key file format)
Result<std::string> TssPrivateKeyPem(const KeyBlob& key) {
  const char* const loadable_key_oid = "2.23.133.10.1.3";
  constexpr long kOwnerHierarchy = 0x40000001;
  std::unique_ptr<ASN1_OBJECT, OpensslDeleter<ASN1_OBJECT_free>> type(
      OBJ_txt2obj(loadable_key_oid, 1));
  std::unique_ptr<ASN1_INTEGER, OpensslDeleter<ASN1_INTEGER_free>> parent(ASN1_INTEGER_new());
  std::unique_ptr<ASN1_OCTET_STRING, OpensslDeleter<ASN1_OCTET_STRING_free>> public_part(
      ASN1_OCTET_STRING_new());
  std::unique_ptr<ASN1_OCTET_STRING, OpensslDeleter<ASN1_OCTET_STRING_free>> private_part(
      ASN1_OCTET_STRING_new());
  if (!type || !parent || !public_part || !private_part ||
      ASN1_INTEGER_set(parent.get(), kOwnerHierarchy) != 1 ||
      ASN1_OCTET_STRING_set(public_part.get(), key.public_area.data(),
                            static_cast<int>(key.public_area.size())) != 1 ||
      ASN1_OCTET_STRING_set(private_part.get(), key.private_area.data(),
                            static_cast<int>(key.private_area.size())) != 1) {
    return OpensslError("build TSS2 PRIVATE KEY");
  }
  ATTEST_ASSIGN_OR_RETURN(Bytes type_der, ToDer<ASN1_OBJECT>(type.get(), i2d_ASN1_OBJECT));
  ATTEST_ASSIGN_OR_RETURN(Bytes parent_der, ToDer<ASN1_INTEGER>(parent.get(), i2d_ASN1_INTEGER));
  ATTEST_ASSIGN_OR_RETURN(Bytes public_der,
                          ToDer<ASN1_OCTET_STRING>(public_part.get(), i2d_ASN1_OCTET_STRING));
  ATTEST_ASSIGN_OR_RETURN(Bytes private_der,
                          ToDer<ASN1_OCTET_STRING>(private_part.get(), i2d_ASN1_OCTET_STRING));
  const Bytes empty_auth = {0xa0, 0x03, 0x01, 0x01, 0xff};  // [0] { BOOLEAN TRUE }

  Bytes body;
  for (const Bytes* part : std::initializer_list<const Bytes*>{&type_der, &empty_auth, &parent_der,
                                                               &public_der, &private_der}) {
    body.insert(body.end(), part->begin(), part->end());
  }
  Bytes der;
  AppendHeader(der, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, body.size());
  der.insert(der.end(), body.begin(), body.end());

  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio(bio.get(), "TSS2 PRIVATE KEY", "", der.data(),
                            static_cast<long>(der.size())) <= 0) {
    return OpensslError("write TSS2 PRIVATE KEY PEM");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

}  // namespace attest::attestd
