#include "ek_parameters.h"

#include <array>
#include <cstdio>
#include <string>

namespace attest::verifier::internal {
namespace {

std::string Hex(std::uint32_t value) {
  std::array<char, 16> text{};
  const int length = std::snprintf(text.data(), text.size(), "0x%x", value);
  return std::string(text.data(), static_cast<std::size_t>(length));
}

Result<tpm::HashAlgorithm> NameAlgorithm(TPMI_ALG_HASH name_alg) {
  auto algorithm = tpm::HashAlgorithmById(name_alg);
  if (!algorithm ||
      (name_alg != TPM2_ALG_SHA256 && name_alg != TPM2_ALG_SHA384 && name_alg != TPM2_ALG_SHA512)) {
    return MakeError(ErrorCode::kUnsupported, "EK name algorithm " + Hex(name_alg) +
                                                  " is not supported (sha256, sha384, sha512 are)");
  }
  return *algorithm;
}

}  // namespace

Result<EkParameters> CheckCredentialKey(const TPMT_PUBLIC& area) {
  if (area.type != TPM2_ALG_RSA && area.type != TPM2_ALG_ECC) {
    return MakeError(ErrorCode::kUnsupported,
                     "EK type " + Hex(area.type) + " cannot protect a credential (RSA, ECC can)");
  }
  // TPM2_ActivateCredential takes a storage key: restricted and decrypt.
  const TPMA_OBJECT attributes = area.objectAttributes;
  if ((attributes & TPMA_OBJECT_RESTRICTED) == 0 || (attributes & TPMA_OBJECT_DECRYPT) == 0 ||
      (attributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "EK is not a storage key (restricted, decrypt, not sign): attributes " + Hex(attributes));
  }
  const TPMT_SYM_DEF_OBJECT& symmetric = area.type == TPM2_ALG_RSA
                                             ? area.parameters.rsaDetail.symmetric
                                             : area.parameters.eccDetail.symmetric;
  if (symmetric.algorithm != TPM2_ALG_AES || symmetric.mode.aes != TPM2_ALG_CFB ||
      (symmetric.keyBits.aes != 128 && symmetric.keyBits.aes != 256)) {
    return MakeError(ErrorCode::kUnsupported, "EK symmetric algorithm " + Hex(symmetric.algorithm) +
                                                  " mode " + Hex(symmetric.mode.aes) +
                                                  " is not supported (AES-128/256-CFB are)");
  }
  const TPMI_ALG_ASYM_SCHEME scheme = area.type == TPM2_ALG_RSA
                                          ? area.parameters.rsaDetail.scheme.scheme
                                          : area.parameters.eccDetail.scheme.scheme;
  if (scheme != TPM2_ALG_NULL) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "EK has scheme " + Hex(scheme) + "; a storage key has none");
  }
  if (area.type == TPM2_ALG_RSA &&
      (area.parameters.rsaDetail.keyBits < 2048 || area.parameters.rsaDetail.keyBits > 4096)) {
    return MakeError(ErrorCode::kUnsupported,
                     "RSA EK of " + std::to_string(area.parameters.rsaDetail.keyBits) +
                         " bits (2048 to 4096 are supported)");
  }
  ATTEST_ASSIGN_OR_RETURN(tpm::HashAlgorithm name_alg, NameAlgorithm(area.nameAlg));
  const bool aes256 = symmetric.keyBits.aes == 256;
  return EkParameters{name_alg, aes256 ? "AES-256-CFB" : "AES-128-CFB",
                      static_cast<std::size_t>(aes256 ? 32 : 16)};
}

}  // namespace attest::verifier::internal
