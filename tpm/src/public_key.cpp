#include "attest/tpm/public_key.h"

#include <algorithm>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "attest/encoding.h"
#include "attest/sha256.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"

namespace attest::tpm {
namespace {

Result<EvpPkeyPtr> KeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  OsslParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpensslError(std::string("build ") + type + " public key from TPM public area",
                        ErrorCode::kCorrupt);
  }
  return EvpPkeyPtr(key);
}

Result<EvpPkeyPtr> RsaKey(const TPMT_PUBLIC& area) {
  const TPM2B_PUBLIC_KEY_RSA& modulus = area.unique.rsa;
  const TPMS_RSA_PARMS& parameters = area.parameters.rsaDetail;
  if (modulus.size == 0 || modulus.size * 8 != parameters.keyBits) {
    return MakeError(ErrorCode::kCorrupt, "RSA public area: modulus of " +
                                              std::to_string(modulus.size) + " bytes for a " +
                                              std::to_string(parameters.keyBits) + "-bit key");
  }
  // An exponent of 0 means the default, 65537 (TPM 2.0 Part 2, TPMS_RSA_PARMS).
  std::uint32_t exponent = parameters.exponent == 0 ? 65537 : parameters.exponent;
  BignumPtr n(BN_bin2bn(modulus.buffer, modulus.size, nullptr));
  BignumPtr e(BN_new());
  OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!n || !e || !builder || BN_set_word(e.get(), exponent) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return OpensslError("RSA public area");
  }
  return KeyFromParams("RSA", builder.get());
}

Result<EvpPkeyPtr> EccKey(const TPMT_PUBLIC& area) {
  const char* group = nullptr;
  std::size_t field_size = 0;
  switch (area.parameters.eccDetail.curveID) {
    case TPM2_ECC_NIST_P256:
      group = "P-256", field_size = 32;
      break;
    case TPM2_ECC_NIST_P384:
      group = "P-384", field_size = 48;
      break;
    case TPM2_ECC_NIST_P521:
      group = "P-521", field_size = 66;
      break;
    default:
      return MakeError(ErrorCode::kUnsupported,
                       "ECC curve " + std::to_string(area.parameters.eccDetail.curveID) +
                           " is not supported (P-256, P-384, P-521 are)");
  }
  const TPMS_ECC_POINT& point = area.unique.ecc;
  if (point.x.size == 0 || point.x.size > field_size || point.y.size == 0 ||
      point.y.size > field_size) {
    return MakeError(ErrorCode::kCorrupt, std::string("ECC public area: point coordinates of ") +
                                              std::to_string(point.x.size) + " and " +
                                              std::to_string(point.y.size) + " bytes on " + group);
  }
  // Uncompressed SEC1 point; the TPM may drop leading zero bytes.
  Bytes encoded(1 + 2 * field_size, 0);
  encoded[0] = 0x04;
  std::copy_n(point.x.buffer, point.x.size, encoded.data() + 1 + (field_size - point.x.size));
  std::copy_n(point.y.buffer, point.y.size, encoded.data() + encoded.size() - point.y.size);
  OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, encoded.data(),
                                       encoded.size()) != 1) {
    return OpensslError("ECC public area");
  }
  return KeyFromParams("EC", builder.get());
}

}  // namespace

Result<TPM2B_PUBLIC> ParsePublic(ByteView marshaled) {
  return Unmarshal<TPM2B_PUBLIC>(marshaled, Tss2_MU_TPM2B_PUBLIC_Unmarshal, "TPM2B_PUBLIC");
}

Bytes MarshalPublic(const TPM2B_PUBLIC& public_key) {
  return Marshal(public_key, Tss2_MU_TPM2B_PUBLIC_Marshal);
}

Bytes MarshalPublicArea(const TPMT_PUBLIC& public_area) {
  return Marshal(public_area, Tss2_MU_TPMT_PUBLIC_Marshal);
}

Result<Bytes> ObjectName(const TPMT_PUBLIC& public_area) {
  auto algorithm = HashAlgorithmById(public_area.nameAlg);
  if (!algorithm) {
    return MakeError(ErrorCode::kUnsupported,
                     "name algorithm " + std::to_string(public_area.nameAlg) + " is not supported");
  }
  ATTEST_ASSIGN_OR_RETURN(Bytes digest, HashWith(*algorithm, MarshalPublicArea(public_area)));
  Bytes name = {static_cast<std::uint8_t>(public_area.nameAlg >> 8),
                static_cast<std::uint8_t>(public_area.nameAlg & 0xff)};
  name.insert(name.end(), digest.begin(), digest.end());
  return name;
}

Result<EvpPkeyPtr> PublicKeyFromTpm(const TPMT_PUBLIC& public_area) {
  switch (public_area.type) {
    case TPM2_ALG_RSA:
      return RsaKey(public_area);
    case TPM2_ALG_ECC:
      return EccKey(public_area);
    default:
      return MakeError(ErrorCode::kUnsupported, "TPM object type " +
                                                    std::to_string(public_area.type) +
                                                    " has no public key (RSA and ECC do)");
  }
}

std::string NodeId(const TPMT_PUBLIC& endorsement_key) {
  return HexEncode(AsBytes(Sha256Of(MarshalPublicArea(endorsement_key))));
}

}  // namespace attest::tpm
