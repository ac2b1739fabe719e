#include "attest/tpm/public_key.h"

#include <algorithm>
#include <array>
#include <string_view>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

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

struct Curve {
  TPM2_ECC_CURVE tpm_id;
  std::string_view openssl_name;  // NUL-terminated: a literal
  int nid;
  std::size_t field_size;  // bytes per coordinate
};
constexpr std::array<Curve, 3> kCurves = {{
    {TPM2_ECC_NIST_P256, "P-256", NID_X9_62_prime256v1, 32},
    {TPM2_ECC_NIST_P384, "P-384", NID_secp384r1, 48},
    {TPM2_ECC_NIST_P521, "P-521", NID_secp521r1, 66},
}};

// An EC public key from a named curve and its point as an uncompressed
// SEC1 octet string (coordinates left-padded to the field size), the one
// form every key of ours is built in.
Result<EvpPkeyPtr> EcKeyFromCoordinates(const Curve& curve, ByteView x, ByteView y) {
  Bytes encoded(1 + 2 * curve.field_size, 0);
  encoded[0] = 0x04;
  std::copy(x.begin(), x.end(),
            encoded.begin() + 1 + static_cast<long>(curve.field_size - x.size()));
  std::copy(y.begin(), y.end(), encoded.end() - static_cast<long>(y.size()));
  OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      curve.openssl_name.data(), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, encoded.data(),
                                       encoded.size()) != 1) {
    return OpensslError("EC public key");
  }
  return KeyFromParams("EC", builder.get());
}

Result<EvpPkeyPtr> EccKey(const TPMT_PUBLIC& area) {
  const Curve* curve = nullptr;
  for (const Curve& known : kCurves) {
    if (known.tpm_id == area.parameters.eccDetail.curveID) curve = &known;
  }
  if (curve == nullptr) {
    return MakeError(ErrorCode::kUnsupported,
                     "ECC curve " + std::to_string(area.parameters.eccDetail.curveID) +
                         " is not supported (P-256, P-384, P-521 are)");
  }
  const TPMS_ECC_POINT& point = area.unique.ecc;
  if (point.x.size == 0 || point.x.size > curve->field_size || point.y.size == 0 ||
      point.y.size > curve->field_size) {
    return MakeError(ErrorCode::kCorrupt, "ECC public area: point coordinates of " +
                                              std::to_string(point.x.size) + " and " +
                                              std::to_string(point.y.size) + " bytes on " +
                                              std::string(curve->openssl_name));
  }
  // The TPM may drop leading zero bytes; EcKeyFromCoordinates pads them back.
  return EcKeyFromCoordinates(*curve, ByteView(point.x.buffer, point.x.size),
                              ByteView(point.y.buffer, point.y.size));
}

Result<BignumPtr> BignumParameter(const EVP_PKEY* key, const char* name) {
  BIGNUM* value = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &value) != 1) {
    return OpensslError(std::string("read ") + name + " of a public key");
  }
  return BignumPtr(value);
}

Bytes BignumBytes(const BIGNUM* number) {
  Bytes bytes(static_cast<std::size_t>(BN_num_bytes(number)));
  BN_bn2bin(number, bytes.data());
  return bytes;
}

// `key` rebuilt from its key material alone, so its i2d_PUBKEY does not
// depend on how it was encoded where it came from (a compressed point,
// explicit curve parameters).
Result<EvpPkeyPtr> CanonicalPublicKey(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA") == 1) {
    ATTEST_ASSIGN_OR_RETURN(BignumPtr n, BignumParameter(key, OSSL_PKEY_PARAM_RSA_N));
    ATTEST_ASSIGN_OR_RETURN(BignumPtr e, BignumParameter(key, OSSL_PKEY_PARAM_RSA_E));
    OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
      return OpensslError("RSA public key");
    }
    return KeyFromParams("RSA", builder.get());
  }
  if (EVP_PKEY_is_a(key, "EC") == 1) {
    std::array<char, 64> group{};
    std::size_t group_length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                       &group_length) != 1) {
      ERR_clear_error();
      return MakeError(ErrorCode::kUnsupported, "EC public key without a named curve");
    }
    // OpenSSL names a decoded key's group by its short name ("prime256v1").
    int nid = OBJ_txt2nid(group.data());
    if (nid == NID_undef) nid = EC_curve_nist2nid(group.data());
    const Curve* curve = nullptr;
    for (const Curve& known : kCurves) {
      if (known.nid == nid) curve = &known;
    }
    if (curve == nullptr) {
      return MakeError(ErrorCode::kUnsupported, "EC curve " + std::string(group.data()) +
                                                    " is not supported (P-256, P-384, P-521 are)");
    }
    ATTEST_ASSIGN_OR_RETURN(BignumPtr x, BignumParameter(key, OSSL_PKEY_PARAM_EC_PUB_X));
    ATTEST_ASSIGN_OR_RETURN(BignumPtr y, BignumParameter(key, OSSL_PKEY_PARAM_EC_PUB_Y));
    const Bytes x_bytes = BignumBytes(x.get());
    const Bytes y_bytes = BignumBytes(y.get());
    if (x_bytes.size() > curve->field_size || y_bytes.size() > curve->field_size) {
      return MakeError(ErrorCode::kCorrupt, "EC public key coordinates exceed the field size");
    }
    return EcKeyFromCoordinates(*curve, x_bytes, y_bytes);
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return MakeError(ErrorCode::kUnsupported,
                   std::string(type != nullptr ? type : "this type of") +
                       " public key is not supported (RSA and EC keys are)");
}

Result<std::string> SubjectPublicKeyInfoSha256(EVP_PKEY* key) {
  const int length = i2d_PUBKEY(key, nullptr);
  if (length <= 0) return OpensslError("encode SubjectPublicKeyInfo");
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* cursor = der.data();
  if (i2d_PUBKEY(key, &cursor) != length) return OpensslError("encode SubjectPublicKeyInfo");
  return HexEncode(AsBytes(Sha256Of(der)));
}

}  // namespace

Result<TPM2B_PUBLIC> ParsePublic(ByteView marshaled) {
  ATTEST_ASSIGN_OR_RETURN(
      TPM2B_PUBLIC parsed,
      Unmarshal<TPM2B_PUBLIC>(marshaled, Tss2_MU_TPM2B_PUBLIC_Unmarshal, "TPM2B_PUBLIC"));
  // tss2-mu reads the TPMT_PUBLIC without holding it to the size before it,
  // so a size that disagrees with the area would otherwise pass.
  if (std::size_t{parsed.size} + 2 != marshaled.size()) {
    return MakeError(ErrorCode::kCorrupt, "TPM2B_PUBLIC says its public area is " +
                                              std::to_string(parsed.size) + " bytes, but it is " +
                                              std::to_string(marshaled.size() - 2));
  }
  return parsed;
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
  // Sized up front and filled in place: GCC 12 at -O2 misreads inserting
  // into a vector built from a two-byte list as out of bounds
  // (-Warray-bounds) once it sees enough of the callers to inline it.
  Bytes name(2 + digest.size());
  name[0] = static_cast<std::uint8_t>(public_area.nameAlg >> 8);
  name[1] = static_cast<std::uint8_t>(public_area.nameAlg & 0xff);
  std::copy(digest.begin(), digest.end(), name.begin() + 2);
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

Result<std::string> NodeId(const TPMT_PUBLIC& endorsement_key) {
  // PublicKeyFromTpm builds from the key material only, in canonical form.
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr key, PublicKeyFromTpm(endorsement_key));
  return SubjectPublicKeyInfoSha256(key.get());
}

Result<std::string> NodeIdOfPublicKey(const EVP_PKEY* key) {
  if (key == nullptr) return MakeError(ErrorCode::kInvalidArgument, "no public key");
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr canonical, CanonicalPublicKey(key));
  return SubjectPublicKeyInfoSha256(canonical.get());
}

}  // namespace attest::tpm
