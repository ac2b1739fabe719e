// The public templates of every key attestd creates. The EK templates are
// the TCG EK Credential Profile's (2.5, Annex B); the storage primary is the
// one the tpm2 OpenSSL provider derives for parent TPM_RH_OWNER, so TSS2 PEM
// keys attestd writes load through that provider unchanged.
#include <algorithm>
#include <array>

#include "src/tpm_internal.h"

namespace attest::attestd {
namespace {

constexpr TPMA_OBJECT kEkAttributesLow =
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
constexpr TPMA_OBJECT kEkAttributesHigh = kEkAttributesLow | TPMA_OBJECT_USERWITHAUTH;

// The EK Credential Profile's policies (2.5, §B.6). Each digest is what a
// trial session computes, and was checked by recomputing it:
//   A = H(H(0^n || TPM_CC_PolicySecret || TPM_RH_ENDORSEMENT) || "")
//   C = H(0^n || TPM_CC_PolicyAuthorizeNV || Name(policy index)), where the
//       index is I-1 0x01c07f01 (SHA-256) or I-2 0x01c07f02 (SHA-384) with
//       authPolicy A and attributes POLICYWRITE|WRITEALL|PPREAD|OWNERREAD|
//       AUTHREAD|POLICYREAD|NO_DA|WRITTEN, dataSize 2 + n
//   B = H(0^n || TPM_CC_PolicyOR || A || C)
// and B is the high-range templates' authPolicy. swtpm's ActivateCredential
// with the H-1 and H-3 EKs (swtpm-tests) proves B = PolicyOR(A, C).
//
// Policy A: TPM2_PolicySecret(TPM_RH_ENDORSEMENT), SHA-256.
constexpr std::array<std::uint8_t, 32> kPolicyASha256 = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};
constexpr std::array<std::uint8_t, 48> kPolicyASha384 = {
    0x8b, 0xbf, 0x22, 0x66, 0x53, 0x7c, 0x17, 0x1c, 0xb5, 0x6e, 0x40, 0x3c, 0x4d, 0xc1, 0xd4, 0xb6,
    0x4f, 0x43, 0x26, 0x11, 0xdc, 0x38, 0x6e, 0x6f, 0x53, 0x20, 0x50, 0xc3, 0x27, 0x8c, 0x93, 0x0e,
    0x14, 0x3e, 0x8b, 0xb1, 0x13, 0x38, 0x24, 0xcc, 0xb4, 0x31, 0x05, 0x38, 0x71, 0xc6, 0xdb, 0x53};
// Policy C: TPM2_PolicyAuthorizeNV of the profile's policy index.
constexpr std::array<std::uint8_t, 32> kPolicyCSha256 = {
    0x37, 0x67, 0xe2, 0xed, 0xd4, 0x3f, 0xf4, 0x5a, 0x3a, 0x7e, 0x1e, 0xae, 0xfc, 0xef, 0x78, 0x64,
    0x3d, 0xca, 0x96, 0x46, 0x32, 0xe7, 0xaa, 0xd8, 0x2c, 0x67, 0x3a, 0x30, 0xd8, 0x63, 0x3f, 0xde};
constexpr std::array<std::uint8_t, 48> kPolicyCSha384 = {
    0xd6, 0x03, 0x2c, 0xe6, 0x1f, 0x2f, 0xb3, 0xc2, 0x40, 0xeb, 0x3c, 0xf6, 0xa3, 0x32, 0x37, 0xef,
    0x2b, 0x6a, 0x16, 0xf4, 0x29, 0x3c, 0x22, 0xb4, 0x55, 0xe2, 0x61, 0xcf, 0xfd, 0x21, 0x7a, 0xd5,
    0xb4, 0x94, 0x7c, 0x2d, 0x73, 0xe6, 0x30, 0x05, 0xee, 0xd2, 0xdc, 0x2b, 0x35, 0x93, 0xd1, 0x65};
// Policy B: TPM2_PolicyOR of policy A and policy C (PolicyAuthorizeNV).
constexpr std::array<std::uint8_t, 32> kPolicyBSha256 = {
    0xca, 0x3d, 0x0a, 0x99, 0xa2, 0xb9, 0x39, 0x06, 0xf7, 0xa3, 0x34, 0x24, 0x14, 0xef, 0xcf, 0xb3,
    0xa3, 0x85, 0xd4, 0x4c, 0xd1, 0xfd, 0x45, 0x90, 0x89, 0xd1, 0x9b, 0x50, 0x71, 0xc0, 0xb7, 0xa0};
constexpr std::array<std::uint8_t, 48> kPolicyBSha384 = {
    0xb2, 0x6e, 0x7d, 0x28, 0xd1, 0x1a, 0x50, 0xbc, 0x53, 0xd8, 0x82, 0xbc, 0xf5, 0xfd, 0x3a, 0x1a,
    0x07, 0x41, 0x48, 0xbb, 0x35, 0xd3, 0xb4, 0xe4, 0xcb, 0x1c, 0x0a, 0xd9, 0xbd, 0xe4, 0x19, 0xca,
    0xcb, 0x47, 0xba, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0f, 0x9f, 0xc0, 0x00, 0xf3, 0xf8, 0x0e, 0x12};

constexpr std::uint32_t kRsaL1Certificate = 0x01c00002;
constexpr std::uint32_t kEccL2Certificate = 0x01c0000a;
constexpr std::uint32_t kRsaH1Certificate = 0x01c00012;
constexpr std::uint32_t kEccH2Certificate = 0x01c00014;
constexpr std::uint32_t kEccH3Certificate = 0x01c00016;

template <std::size_t N>
void SetPolicy(TPMT_PUBLIC& area, const std::array<std::uint8_t, N>& policy) {
  area.authPolicy.size = N;
  std::copy(policy.begin(), policy.end(), area.authPolicy.buffer);
}

TPMT_PUBLIC RsaEk(bool high) {
  TPMT_PUBLIC area{};
  area.type = TPM2_ALG_RSA;
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = high ? kEkAttributesHigh : kEkAttributesLow;
  if (high) {
    SetPolicy(area, kPolicyBSha256);
  } else {
    SetPolicy(area, kPolicyASha256);
  }
  area.parameters.rsaDetail.symmetric = {TPM2_ALG_AES, {.aes = 128}, {.aes = TPM2_ALG_CFB}};
  area.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  area.parameters.rsaDetail.keyBits = 2048;
  area.parameters.rsaDetail.exponent = 0;
  // L-1 carries 256 zero bytes; the high-range templates leave unique
  // empty, and a different unique derives a different key.
  area.unique.rsa.size = high ? 0 : 256;
  return area;
}

TPMT_PUBLIC EccEk(TPMI_ECC_CURVE curve, bool high) {
  TPMT_PUBLIC area{};
  bool p384 = curve == TPM2_ECC_NIST_P384;
  area.type = TPM2_ALG_ECC;
  area.nameAlg = p384 ? TPM2_ALG_SHA384 : TPM2_ALG_SHA256;
  area.objectAttributes = high ? kEkAttributesHigh : kEkAttributesLow;
  if (p384) {
    SetPolicy(area, kPolicyBSha384);
  } else if (high) {
    SetPolicy(area, kPolicyBSha256);
  } else {
    SetPolicy(area, kPolicyASha256);
  }
  area.parameters.eccDetail.symmetric = {TPM2_ALG_AES,
                                         {.aes = static_cast<TPMI_AES_KEY_BITS>(p384 ? 256 : 128)},
                                         {.aes = TPM2_ALG_CFB}};
  area.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  area.parameters.eccDetail.curveID = curve;
  area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  if (!high) {  // L-2 carries 32 zero bytes per coordinate; the high range leaves them empty
    area.unique.ecc.x.size = 32;
    area.unique.ecc.y.size = 32;
  }
  return area;
}

// An ECC P-256 ECDSA-SHA256 signing key with `attributes`.
TPM2B_PUBLIC EccSigningKey(TPMA_OBJECT attributes) {
  TPM2B_PUBLIC result{};
  TPMT_PUBLIC& area = result.publicArea;
  area.type = TPM2_ALG_ECC;
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = attributes;
  area.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  area.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  area.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return result;
}

// noDA: these keys have an empty auth value, so dictionary-attack
// protection guards nothing on them; without noDA any process that can
// open the TPM could put the TPM into lockout (failing authorizations on
// a key of its own) and every quote and certification would then fail.
constexpr TPMA_OBJECT kTpmResidentSigner =
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT;

}  // namespace

std::optional<EkPolicyDigests> EkPolicyDigestsFor(TPMI_ALG_HASH hash) {
  if (hash == TPM2_ALG_SHA256)
    return EkPolicyDigests{kPolicyASha256, kPolicyBSha256, kPolicyCSha256};
  if (hash == TPM2_ALG_SHA384)
    return EkPolicyDigests{kPolicyASha384, kPolicyBSha384, kPolicyCSha384};
  return std::nullopt;
}

const std::vector<EkProfile>& EkProfiles(EkAlgorithm algorithm) {
  static const std::vector<EkProfile> kRsa = {
      {"L-1 RSA 2048", kRsaL1Certificate, false},
      {"H-1 RSA 2048", kRsaH1Certificate, true},
  };
  static const std::vector<EkProfile> kEcc = {
      {"L-2 ECC NIST P256", kEccL2Certificate, false},
      {"H-2 ECC NIST P256", kEccH2Certificate, true},
      {"H-3 ECC NIST P384", kEccH3Certificate, true},
  };
  return algorithm == EkAlgorithm::kRsa ? kRsa : kEcc;
}

TPM2B_PUBLIC EndorsementKeyTemplate(const EkProfile& profile) {
  TPM2B_PUBLIC result{};
  switch (profile.certificate_index) {
    case kRsaL1Certificate:
      result.publicArea = RsaEk(false);
      break;
    case kRsaH1Certificate:
      result.publicArea = RsaEk(true);
      break;
    case kEccL2Certificate:
      result.publicArea = EccEk(TPM2_ECC_NIST_P256, false);
      break;
    case kEccH2Certificate:
      result.publicArea = EccEk(TPM2_ECC_NIST_P256, true);
      break;
    default:
      result.publicArea = EccEk(TPM2_ECC_NIST_P384, true);
      break;
  }
  return result;
}

TPM2B_PUBLIC StoragePrimaryTemplate() {
  TPM2B_PUBLIC result{};
  TPMT_PUBLIC& area = result.publicArea;
  area.type = TPM2_ALG_ECC;
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
                          TPMA_OBJECT_NODA | TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN;
  area.parameters.eccDetail.symmetric = {TPM2_ALG_AES, {.aes = 128}, {.aes = TPM2_ALG_CFB}};
  area.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return result;
}

TPM2B_PUBLIC AttestationKeyTemplate(AkAlgorithm algorithm) {
  // DESIGN §3: fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign.
  TPM2B_PUBLIC result = EccSigningKey(kTpmResidentSigner | TPMA_OBJECT_RESTRICTED);
  if (algorithm == AkAlgorithm::kRsa2048) {
    TPMT_PUBLIC& area = result.publicArea;
    area.type = TPM2_ALG_RSA;
    area.parameters = {};
    area.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    area.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    area.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    area.parameters.rsaDetail.keyBits = 2048;
  }
  return result;
}

// Not restricted: it signs TLS handshakes and CSRs, not TPM-made data.
TPM2B_PUBLIC SigningKeyTemplate() { return EccSigningKey(kTpmResidentSigner); }

}  // namespace attest::attestd
