// The endorsement key: its certificate from NV, the key itself from the
// matching TCG template (or the platform's own template in NV), and
// TPM2_ActivateCredential, the one thing attestd uses it for.
#include <algorithm>

#include <openssl/x509.h>

#include "attest/attestd/tpm.h"
#include "attest/openssl.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"
#include "attest/tpm/response_code.h"

#include "src/tpm_internal.h"

namespace attest::attestd {
namespace {

// Where the low-range profiles keep the TPM's own template and nonce (EK
// Credential Profile 2.5, §2.2.1.5); they override the default template.
struct TemplateIndexes {
  std::uint32_t template_index;
  std::uint32_t nonce_index;
  TPMI_ALG_PUBLIC type;
};
std::optional<TemplateIndexes> NvTemplateIndexes(const EkProfile& profile) {
  if (profile.certificate_index == 0x01c00002) {
    return TemplateIndexes{0x01c00004, 0x01c00003, TPM2_ALG_RSA};
  }
  if (profile.certificate_index == 0x01c0000a) {
    return TemplateIndexes{0x01c0000c, 0x01c0000b, TPM2_ALG_ECC};
  }
  return std::nullopt;
}

// Why an index's contents cannot be taken as the platform's word, or
// nullopt when they can: the platform defined it (an owner cannot set
// TPMA_NV_PLATFORMCREATE, and with an empty owner auth anyone can define an
// index as owner), and nobody but the platform can write it.
std::optional<std::string> NotPlatformProvisioned(TPMA_NV attributes) {
  if ((attributes & TPMA_NV_PLATFORMCREATE) == 0) {
    return "was not created by the platform (TPMA_NV_PLATFORMCREATE clear)";
  }
  if ((attributes & (TPMA_NV_OWNERWRITE | TPMA_NV_AUTHWRITE | TPMA_NV_POLICYWRITE)) != 0) {
    return "can be written by others than the platform (OWNERWRITE, AUTHWRITE or POLICYWRITE)";
  }
  if (((attributes & TPMA_NV_TPM2_NT_MASK) >> TPMA_NV_TPM2_NT_SHIFT) != TPM2_NT_ORDINARY) {
    return "is not an ordinary index";
  }
  return std::nullopt;
}

// Why `area` is not an EK template of `type`, or nullopt: an EK is a
// restricted decryption key bound to this TPM, generated inside it.
std::optional<std::string> NotAnEkTemplate(const TPMT_PUBLIC& area, TPMI_ALG_PUBLIC type) {
  if (area.type != type) return std::string("is not a template for this profile's algorithm");
  constexpr TPMA_OBJECT kRequired = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED |
                                    TPMA_OBJECT_DECRYPT;
  if ((area.objectAttributes & kRequired) != kRequired ||
      (area.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0) {
    return std::string(
        "is not a restricted decryption key with fixedTPM, fixedParent and "
        "sensitiveDataOrigin");
  }
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

bool SameDigest(const TPM2B_DIGEST& digest, ByteView expected) {
  return digest.size == expected.size() &&
         std::equal(expected.begin(), expected.end(), digest.buffer);
}

}  // namespace

Result<std::optional<Bytes>> Tpm::ReadPlatformNv(std::uint32_t index, const std::string& what,
                                                 std::vector<std::string>& warnings) {
  ATTEST_ASSIGN_OR_RETURN(std::optional<NvIndex> opened, OpenNvIndex(index));
  if (!opened) return std::optional<Bytes>();
  const std::string name = what + " at NV " + HexHandle(index);
  // Checked before reading: an index someone else defined may not even be
  // readable, and must not stop attestd either way.
  if (auto problem = NotPlatformProvisioned(opened->nv_public.attributes)) {
    warnings.push_back(name + " ignored: it " + *problem);
    return std::optional<Bytes>();
  }
  Result<Bytes> contents = ReadNvContents(*opened);
  if (!contents.ok()) {
    warnings.push_back(name + " ignored: " + contents.error().message);
    return std::optional<Bytes>();
  }
  return std::optional<Bytes>(std::move(contents).value());
}

Result<std::optional<TPM2B_PUBLIC>> Tpm::TemplateFromNv(const EkProfile& profile,
                                                        std::vector<std::string>& warnings) {
  auto indexes = NvTemplateIndexes(profile);
  if (!indexes) return std::optional<TPM2B_PUBLIC>();
  const std::string template_name = "EK template at NV " + HexHandle(indexes->template_index);
  const std::string fallback = "; using the " + profile.name + " template";
  const std::size_t warnings_before = warnings.size();
  ATTEST_ASSIGN_OR_RETURN(std::optional<Bytes> template_bytes,
                          ReadPlatformNv(indexes->template_index, "EK template", warnings));
  if (!template_bytes) {
    if (warnings.size() > warnings_before) warnings.back() += fallback;
    return std::optional<TPM2B_PUBLIC>();
  }
  Result<TPMT_PUBLIC> area =
      tpm::Unmarshal<TPMT_PUBLIC>(*template_bytes, Tss2_MU_TPMT_PUBLIC_Unmarshal, template_name);
  if (!area.ok()) {
    warnings.push_back(area.error().message + "; ignored it" + fallback);
    return std::optional<TPM2B_PUBLIC>();
  }
  TPM2B_PUBLIC result{};
  result.publicArea = *area;
  if (auto problem = NotAnEkTemplate(result.publicArea, indexes->type)) {
    warnings.push_back(template_name + " ignored: it " + *problem + fallback);
    return std::optional<TPM2B_PUBLIC>();
  }

  ATTEST_ASSIGN_OR_RETURN(std::optional<Bytes> nonce,
                          ReadPlatformNv(indexes->nonce_index, "EK nonce", warnings));
  if (nonce && !nonce->empty()) {
    TPMU_PUBLIC_ID& unique = result.publicArea.unique;
    if (result.publicArea.type == TPM2_ALG_RSA && nonce->size() <= 256) {
      unique.rsa = {};
      std::copy(nonce->begin(), nonce->end(), unique.rsa.buffer);
      unique.rsa.size = 256;
    } else if (result.publicArea.type == TPM2_ALG_ECC && nonce->size() <= 32) {
      unique.ecc = {};
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

Result<TpmHandle> Tpm::CreateEndorsementKey(const EkProfile& profile, TPM2B_PUBLIC* public_key,
                                            std::vector<std::string>* warnings) {
  std::vector<std::string> ignored;
  ATTEST_ASSIGN_OR_RETURN(std::optional<TPM2B_PUBLIC> from_nv,
                          TemplateFromNv(profile, warnings != nullptr ? *warnings : ignored));
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
    return tpm::TpmError(rc, "TPM2_CreatePrimary(EK, template " + profile.name +
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
  ATTEST_ASSIGN_OR_RETURN(
      TpmHandle ek,
      CreateEndorsementKey(endorsement.profile, &endorsement.public_key, &endorsement.warnings));
  if (endorsement.certificate_der) {
    ATTEST_ASSIGN_OR_RETURN(
        std::size_t length,
        CheckCertificateMatches(*endorsement.certificate_der, endorsement.public_key.publicArea,
                                endorsement.profile));
    endorsement.certificate_der->resize(length);
  }
  return endorsement;
}

Result<TpmHandle> Tpm::StartEkPolicySession(const TPMT_PUBLIC& ek) {
  std::optional<EkPolicyDigests> policies = EkPolicyDigestsFor(ek.nameAlg);
  const bool policy_a = policies && SameDigest(ek.authPolicy, policies->a);
  const bool policy_b = policies && SameDigest(ek.authPolicy, policies->b);
  if (!policy_a && !policy_b) {
    return MakeError(ErrorCode::kUnsupported,
                     "the EK's authPolicy is neither the EK Credential Profile's policy A nor B; "
                     "attestd cannot authorize it");
  }
  TPMT_SYM_DEF symmetric{};
  symmetric.algorithm = TPM2_ALG_NULL;
  ESYS_TR raw_session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &symmetric, ek.nameAlg,
                                     &raw_session);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_StartAuthSession(EK policy)");
  TpmHandle session(esys(), raw_session, TpmHandle::Release::kFlush);
  // Policy A: the endorsement hierarchy's (empty) authorization. Hierarchy
  // authorizations are exempt from dictionary-attack lockout, and a policy
  // session without PolicyAuthValue or PolicyPassword is never locked out,
  // so this works while the TPM is in lockout; the high-range EKs' own
  // auth value would not.
  rc =
      Esys_PolicySecret(esys(), ESYS_TR_RH_ENDORSEMENT, session.get(), ESYS_TR_PASSWORD,
                        ESYS_TR_NONE, ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_PolicySecret(endorsement)");
  if (policy_b) {
    TPML_DIGEST branches{};
    branches.count = 2;
    auto set = [](TPM2B_DIGEST& digest, ByteView value) {
      digest.size = static_cast<std::uint16_t>(value.size());
      std::copy(value.begin(), value.end(), digest.buffer);
    };
    set(branches.digests[0], policies->a);
    set(branches.digests[1], policies->c);
    rc = Esys_PolicyOR(esys(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &branches);
    if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_PolicyOR(EK policy B)");
  }
  return session;
}

Result<Bytes> Tpm::ActivateCredential(const KeyBlob& attestation_key,
                                      const Endorsement& endorsement, ByteView credential_blob,
                                      ByteView encrypted_secret) {
  ATTEST_ASSIGN_OR_RETURN(
      TPM2B_ID_OBJECT credential,
      tpm::Unmarshal<TPM2B_ID_OBJECT>(credential_blob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal,
                                      "credential blob (TPM2B_ID_OBJECT)"));
  ATTEST_ASSIGN_OR_RETURN(TPM2B_ENCRYPTED_SECRET secret,
                          tpm::Unmarshal<TPM2B_ENCRYPTED_SECRET>(
                              encrypted_secret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal,
                              "encrypted secret (TPM2B_ENCRYPTED_SECRET)"));
  ATTEST_ASSIGN_OR_RETURN(std::vector<TpmHandle> loaded, LoadKeys({&attestation_key}));
  TPM2B_PUBLIC created{};
  ATTEST_ASSIGN_OR_RETURN(TpmHandle ek,
                          CreateEndorsementKey(endorsement.profile, &created, nullptr));
  // The salt is encrypted to the public key ESYS holds for the EK, which
  // came back over the bus: it must be the enrolled one, or whoever
  // substituted it could decrypt the salt, and with it the secret.
  if (tpm::Marshal(created.publicArea, Tss2_MU_TPMT_PUBLIC_Marshal) !=
      tpm::Marshal(endorsement.public_key.publicArea, Tss2_MU_TPMT_PUBLIC_Marshal)) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "the EK the TPM created from template " + endorsement.profile.name +
                         " is not the enrolled EK; refusing to activate a credential with it");
  }
  ATTEST_ASSIGN_OR_RETURN(TpmHandle ak_session, StartSession(ek.get(), "the EK"));
  // ENCRYPT: the TPM encrypts the first response parameter, certInfo (the
  // secret), under a key derived from the salted session key.
  TSS2_RC rc = Esys_TRSess_SetAttributes(esys(), ak_session.get(), TPMA_SESSION_ENCRYPT,
                                         TPMA_SESSION_ENCRYPT);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "Esys_TRSess_SetAttributes(encrypt)");
  ATTEST_ASSIGN_OR_RETURN(TpmHandle ek_session, StartEkPolicySession(created.publicArea));

  TPM2B_DIGEST* raw_certificate_info = nullptr;
  rc =
      Esys_ActivateCredential(esys(), loaded[0].get(), ek.get(), ak_session.get(), ek_session.get(),
                              ESYS_TR_NONE, &credential, &secret, &raw_certificate_info);
  EsysPtr<TPM2B_DIGEST> certificate_info(raw_certificate_info);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm::TpmError(
        rc,
        "TPM2_ActivateCredential (a credential made for another key's name, or for "
        "another EK, is refused)");
  }
  return Bytes(certificate_info->buffer, certificate_info->buffer + certificate_info->size);
}

}  // namespace attest::attestd
