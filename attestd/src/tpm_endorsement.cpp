// The endorsement key: its certificate from NV, the key itself from the
// matching TCG template, and TPM2_ActivateCredential, the one thing attestd
// uses it for.
#include <cstdio>

#include <openssl/x509.h>

#include "attest/attestd/tpm.h"
#include "attest/openssl.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"

#include "src/tpm_internal.h"

namespace attest {
namespace {

// Where the low-range profiles keep the TPM's own template and nonce (EK
// Credential Profile 2.5, §2.2.1.5); they override the default template.
struct TemplateIndexes {
  std::uint32_t template_index;
  std::uint32_t nonce_index;
};
std::optional<TemplateIndexes> NvTemplateIndexes(const EkProfile& profile) {
  if (profile.certificate_index == 0x01c00002) return TemplateIndexes{0x01c00004, 0x01c00003};
  if (profile.certificate_index == 0x01c0000a) return TemplateIndexes{0x01c0000c, 0x01c0000b};
  return std::nullopt;
}

// Checks that the certificate is for `ek` and returns its DER length:
// certificates in NV often carry padding after them, which OpenSSL skips.
Result<std::size_t> CheckCertificateMatches(const Bytes& der, const TPMT_PUBLIC& ek,
                                            const EkProfile& profile) {
  const unsigned char* cursor = der.data();
  X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  std::string where = "EK certificate at NV " + HexHandle(profile.certificate_index);
  if (!certificate)
    return OpensslError(where + " is not a DER X.509 certificate", ErrorCode::kCorrupt);
  EVP_PKEY* certified = X509_get0_pubkey(certificate.get());
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr key, tpm::PublicKeyFromTpm(ek));
  if (certified == nullptr || EVP_PKEY_eq(certified, key.get()) != 1) {
    return MakeError(ErrorCode::kVerificationFailed,
                     where + " certifies a different key than the EK created from template " +
                         profile.name + "; the TPM's EK is not the certified one");
  }
  return static_cast<std::size_t>(cursor - der.data());
}

}  // namespace

Result<std::optional<TPM2B_PUBLIC>> Tpm::TemplateFromNv(const EkProfile& profile) {
  auto indexes = NvTemplateIndexes(profile);
  if (!indexes) return std::optional<TPM2B_PUBLIC>();
  ATTEST_ASSIGN_OR_RETURN(std::optional<Bytes> template_bytes, ReadNv(indexes->template_index));
  if (!template_bytes) return std::optional<TPM2B_PUBLIC>();
  TPM2B_PUBLIC result{};
  ATTEST_ASSIGN_OR_RETURN(
      result.publicArea,
      tpm::Unmarshal<TPMT_PUBLIC>(*template_bytes, Tss2_MU_TPMT_PUBLIC_Unmarshal,
                                  "EK template at NV " + HexHandle(indexes->template_index)));
  ATTEST_ASSIGN_OR_RETURN(std::optional<Bytes> nonce, ReadNv(indexes->nonce_index));
  if (nonce && !nonce->empty()) {
    TPMU_PUBLIC_ID& unique = result.publicArea.unique;
    if (result.publicArea.type == TPM2_ALG_RSA && nonce->size() <= 256) {
      std::copy(nonce->begin(), nonce->end(), unique.rsa.buffer);
      unique.rsa.size = 256;
    } else if (result.publicArea.type == TPM2_ALG_ECC && nonce->size() <= 32) {
      std::copy(nonce->begin(), nonce->end(), unique.ecc.x.buffer);
      unique.ecc.x.size = 32;
      unique.ecc.y.size = 32;
    } else {
      return MakeError(ErrorCode::kCorrupt, "EK nonce at NV " + HexHandle(indexes->nonce_index) +
                                                " does not fit its template");
    }
  }
  return std::optional<TPM2B_PUBLIC>(result);
}

Result<TpmHandle> Tpm::CreateEndorsementKey(const EkProfile& profile, TPM2B_PUBLIC* public_key) {
  ATTEST_ASSIGN_OR_RETURN(std::optional<TPM2B_PUBLIC> from_nv, TemplateFromNv(profile));
  TPM2B_PUBLIC in_public = from_nv ? *from_nv : EndorsementKeyTemplate(profile);
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside_info{};
  TPML_PCR_SELECTION creation_pcrs{};
  ESYS_TR handle = ESYS_TR_NONE;
  TPM2B_PUBLIC* raw_public = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(esys(), ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &sensitive, &in_public, &outside_info,
                                  &creation_pcrs, &handle, &raw_public, nullptr, nullptr, nullptr);
  EsysPtr<TPM2B_PUBLIC> out_public(raw_public);
  if (rc != TSS2_RC_SUCCESS) {
    return TpmError(rc, "TPM2_CreatePrimary(EK, template " + profile.name +
                            "; is an endorsement password set?)");
  }
  if (public_key != nullptr) *public_key = *out_public;
  return TpmHandle(esys(), handle, TpmHandle::Release::kFlush);
}

Result<EkProfile> Tpm::SelectEkProfile(EkAlgorithm algorithm, std::optional<Bytes>* certificate) {
  const std::vector<EkProfile>& profiles = EkProfiles(algorithm);
  for (const EkProfile& profile : profiles) {
    if (certificate != nullptr) {
      ATTEST_ASSIGN_OR_RETURN(*certificate, ReadNv(profile.certificate_index));
      if (certificate->has_value()) return profile;
    } else {
      ATTEST_ASSIGN_OR_RETURN(bool defined, NvIndexDefined(profile.certificate_index));
      if (defined) return profile;
    }
  }
  return profiles.front();
}

Result<Endorsement> Tpm::ReadEndorsement(EkAlgorithm algorithm) {
  Endorsement endorsement{};
  ATTEST_ASSIGN_OR_RETURN(endorsement.profile,
                          SelectEkProfile(algorithm, &endorsement.certificate_der));
  ATTEST_ASSIGN_OR_RETURN(TpmHandle ek,
                          CreateEndorsementKey(endorsement.profile, &endorsement.public_key));
  if (endorsement.certificate_der) {
    ATTEST_ASSIGN_OR_RETURN(
        std::size_t length,
        CheckCertificateMatches(*endorsement.certificate_der, endorsement.public_key.publicArea,
                                endorsement.profile));
    endorsement.certificate_der->resize(length);
  }
  return endorsement;
}

Result<Bytes> Tpm::ActivateCredential(const KeyBlob& attestation_key, EkAlgorithm algorithm,
                                      ByteView credential_blob, ByteView encrypted_secret) {
  ATTEST_ASSIGN_OR_RETURN(
      TPM2B_ID_OBJECT credential,
      tpm::Unmarshal<TPM2B_ID_OBJECT>(credential_blob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal,
                                      "credential blob (TPM2B_ID_OBJECT)"));
  ATTEST_ASSIGN_OR_RETURN(TPM2B_ENCRYPTED_SECRET secret,
                          tpm::Unmarshal<TPM2B_ENCRYPTED_SECRET>(
                              encrypted_secret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal,
                              "encrypted secret (TPM2B_ENCRYPTED_SECRET)"));
  // The EK is created once, here; the certificate is the verifier's
  // business (it made the credential for this EK).
  ATTEST_ASSIGN_OR_RETURN(EkProfile profile, SelectEkProfile(algorithm, nullptr));
  ATTEST_ASSIGN_OR_RETURN(std::vector<TpmHandle> loaded, LoadKeys({&attestation_key}));
  ATTEST_ASSIGN_OR_RETURN(TpmHandle ek, CreateEndorsementKey(profile, nullptr));

  // Low-range EKs have userWithAuth clear: their only authorization is
  // their policy, PolicySecret(TPM_RH_ENDORSEMENT). High-range EKs accept
  // their (empty) auth value.
  ESYS_TR ek_authorization = ESYS_TR_PASSWORD;
  TpmHandle session;
  if (!profile.high_range) {
    TPMT_SYM_DEF symmetric{};
    symmetric.algorithm = TPM2_ALG_NULL;
    ESYS_TR raw_session = ESYS_TR_NONE;
    TSS2_RC rc = Esys_StartAuthSession(esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, ESYS_TR_NONE, nullptr, TPM2_SE_POLICY,
                                       &symmetric, TPM2_ALG_SHA256, &raw_session);
    if (rc != TSS2_RC_SUCCESS) return TpmError(rc, "TPM2_StartAuthSession(EK policy)");
    session = TpmHandle(esys(), raw_session, TpmHandle::Release::kFlush);
    rc = Esys_PolicySecret(esys(), ESYS_TR_RH_ENDORSEMENT, session.get(), ESYS_TR_PASSWORD,
                           ESYS_TR_NONE, ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, nullptr,
                           nullptr);
    if (rc != TSS2_RC_SUCCESS) return TpmError(rc, "TPM2_PolicySecret(endorsement)");
    ek_authorization = session.get();
  }
  TPM2B_DIGEST* raw_certificate_info = nullptr;
  TSS2_RC rc =
      Esys_ActivateCredential(esys(), loaded[0].get(), ek.get(), ESYS_TR_PASSWORD, ek_authorization,
                              ESYS_TR_NONE, &credential, &secret, &raw_certificate_info);
  EsysPtr<TPM2B_DIGEST> certificate_info(raw_certificate_info);
  if (rc != TSS2_RC_SUCCESS) {
    return TpmError(rc,
                    "TPM2_ActivateCredential (a credential made for another key's name, or for "
                    "another EK, is refused)");
  }
  return Bytes(certificate_info->buffer, certificate_info->buffer + certificate_info->size);
}

}  // namespace attest
