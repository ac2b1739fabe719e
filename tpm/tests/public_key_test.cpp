// TPM public areas: the wire form (TPM2B_PUBLIC), the object name and the
// OpenSSL key inside. The reference bytes are laid out here by hand from
// TPM 2.0 Part 2 (12.2.4 TPMT_PUBLIC), the reference names hashed with
// OpenSSL directly, and the keys compared with the OpenSSL keys they were
// made from: nothing below trusts tss2-mu or the code under test.
#include "attest/tpm/public_key.h"

#include <string>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "attest/encoding.h"
#include "attest/openssl.h"

#include "tpm_test_bytes.h"

namespace attest::tpm {
namespace {

using test_bytes::Cat;
using test_bytes::Hex;
using test_bytes::KeyParameter;
using test_bytes::Sized;
using test_bytes::U16;

Bytes Digest(const EVP_MD* md, const Bytes& data) {
  Bytes digest(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int size = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest.data(), &size, md, nullptr), 1);
  return digest;
}

Bytes LeftPad(const Bytes& bytes, std::size_t size) {
  Bytes out(size - bytes.size(), 0);
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

EvpPkeyPtr EcKey(const char* curve) {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

// fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted
// | sign: an attestation key.
const Bytes kAkAttributes = Hex("00050072");

// TPMT_PUBLIC of an ECDSA-SHA256 signing key on `curve_id` with the point
// (x, y) as given (no padding added).
Bytes EccArea(std::uint16_t name_alg, std::uint16_t curve_id, const Bytes& x, const Bytes& y) {
  return Cat({Hex("0023"), U16(name_alg), kAkAttributes, Sized({}),
              Hex("0010"),  // symmetric: TPM_ALG_NULL
              Hex("0018"
                  "000b"),                 // scheme: ECDSA, SHA-256
              U16(curve_id), Hex("0010"),  // kdf: TPM_ALG_NULL
              Sized(x), Sized(y)});
}

// TPMT_PUBLIC of an RSASSA-SHA256 signing key.
Bytes RsaArea(std::uint16_t key_bits, std::uint32_t exponent, const Bytes& modulus) {
  return Cat(
      {Hex("0001"), Hex("000b"), kAkAttributes, Sized({}), Hex("0010"),
       Hex("0014"
           "000b"),  // scheme: RSASSA, SHA-256
       U16(key_bits),
       Bytes{static_cast<std::uint8_t>(exponent >> 24), static_cast<std::uint8_t>(exponent >> 16),
             static_cast<std::uint8_t>(exponent >> 8), static_cast<std::uint8_t>(exponent)},
       Sized(modulus)});
}

TPMT_PUBLIC ParsedArea(const Bytes& area) {
  auto parsed = ParsePublic(Sized(area));
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
  return parsed.ok() ? parsed->publicArea : TPMT_PUBLIC{};
}

void ExpectSameKey(const TPMT_PUBLIC& area, const EVP_PKEY* original) {
  auto key = PublicKeyFromTpm(area);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), original), 1);
}

void ExpectRefused(const TPMT_PUBLIC& area, ErrorCode code, const std::string& mentions) {
  auto key = PublicKeyFromTpm(area);
  ASSERT_FALSE(key.ok()) << "accepted";
  EXPECT_EQ(key.error().code, code) << key.error().ToString();
  EXPECT_NE(key.error().message.find(mentions), std::string::npos) << key.error().message;
}

TEST(PublicArea, EccWireFormRoundTripsByteForByte) {
  EvpPkeyPtr key = EcKey("P-256");
  const Bytes area =
      EccArea(0x000b, 0x0003, LeftPad(KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_X), 32),
              LeftPad(KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y), 32));
  auto parsed = ParsePublic(Sized(area));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->publicArea.type, TPM2_ALG_ECC);
  EXPECT_EQ(parsed->publicArea.nameAlg, TPM2_ALG_SHA256);
  EXPECT_EQ(parsed->publicArea.objectAttributes, 0x00050072u);
  EXPECT_EQ(parsed->publicArea.parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
  EXPECT_EQ(MarshalPublic(*parsed), Sized(area));
  EXPECT_EQ(MarshalPublicArea(parsed->publicArea), area);
  ExpectSameKey(parsed->publicArea, key.get());
}

TEST(PublicArea, RsaWireFormRoundTripsAndExponentZeroMeans65537) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  const Bytes modulus = KeyParameter(key.get(), OSSL_PKEY_PARAM_RSA_N);
  ASSERT_EQ(modulus.size(), 256u);
  for (std::uint32_t exponent : {0u, 65537u}) {
    const Bytes area = RsaArea(2048, exponent, modulus);
    auto parsed = ParsePublic(Sized(area));
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    EXPECT_EQ(parsed->publicArea.parameters.rsaDetail.exponent, exponent);
    EXPECT_EQ(MarshalPublic(*parsed), Sized(area));
    ExpectSameKey(parsed->publicArea, key.get());
  }
  // Another exponent is another key.
  auto three = PublicKeyFromTpm(ParsedArea(RsaArea(2048, 3, modulus)));
  ASSERT_TRUE(three.ok()) << three.error().ToString();
  EXPECT_NE(EVP_PKEY_eq(three->get(), key.get()), 1);
}

// name = nameAlg || H_nameAlg(TPMT_PUBLIC) (Part 1, 16 "Names").
TEST(ObjectName, IsTheNameAlgorithmThenTheHashOfThePublicArea) {
  EvpPkeyPtr key = EcKey("P-256");
  const Bytes x = LeftPad(KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_X), 32);
  const Bytes y = LeftPad(KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y), 32);
  struct Case {
    std::uint16_t name_alg;
    const EVP_MD* md;
  };
  for (const Case& c : {Case{0x000b, EVP_sha256()}, Case{0x000c, EVP_sha384()},
                        Case{0x000d, EVP_sha512()}, Case{0x0004, EVP_sha1()}}) {
    const Bytes area = EccArea(c.name_alg, 0x0003, x, y);
    auto name = ObjectName(ParsedArea(area));
    ASSERT_TRUE(name.ok()) << name.error().ToString();
    EXPECT_EQ(HexEncode(*name), HexEncode(Cat({U16(c.name_alg), Digest(c.md, area)})))
        << "nameAlg " << c.name_alg;
  }
}

TEST(ObjectName, ChangesWithEveryFieldOfThePublicArea) {
  EvpPkeyPtr key = EcKey("P-256");
  const TPMT_PUBLIC base =
      ParsedArea(EccArea(0x000b, 0x0003, KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_X),
                         KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y)));
  const Bytes name = ObjectName(base).value();
  TPMT_PUBLIC attributes = base;
  attributes.objectAttributes |= TPMA_OBJECT_NODA;
  TPMT_PUBLIC policy = base;
  policy.authPolicy.size = 32;
  TPMT_PUBLIC point = base;
  point.unique.ecc.y.buffer[0] ^= 1;
  for (const TPMT_PUBLIC& other : {attributes, policy, point}) {
    auto other_name = ObjectName(other);
    ASSERT_TRUE(other_name.ok());
    EXPECT_NE(*other_name, name);
  }
}

TEST(ObjectName, RefusesANameAlgorithmItCannotHash) {
  TPMT_PUBLIC area{};
  area.type = TPM2_ALG_KEYEDHASH;
  for (std::uint16_t name_alg : {TPM2_ALG_NULL, TPM2_ALG_ERROR, std::uint16_t{0x0027}}) {
    area.nameAlg = name_alg;
    auto name = ObjectName(area);
    ASSERT_FALSE(name.ok()) << name_alg;
    EXPECT_EQ(name.error().code, ErrorCode::kUnsupported);
  }
}

TEST(PublicKeyFromTpm, EveryNistCurveAndShortenedCoordinates) {
  for (const char* curve : {"P-256", "P-384", "P-521"}) {
    EvpPkeyPtr key = EcKey(curve);
    const std::uint16_t curve_id = std::string(curve) == "P-256"   ? 0x0003
                                   : std::string(curve) == "P-384" ? 0x0004
                                                                   : 0x0005;
    const std::size_t field = std::string(curve) == "P-521" ? 66 : EVP_PKEY_get_bits(key.get()) / 8;
    const Bytes x = KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_X);
    const Bytes y = KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
    // Padded to the field size, as most TPMs send them.
    ExpectSameKey(ParsedArea(EccArea(0x000b, curve_id, LeftPad(x, field), LeftPad(y, field))),
                  key.get());
    // Without leading zeros: P-521's top byte is 0 or 1, so half its
    // coordinates are shorter; the key must be the same.
    ExpectSameKey(ParsedArea(EccArea(0x000b, curve_id, x, y)), key.get());
  }
}

TEST(PublicKeyFromTpm, RefusesCurvesItDoesNotSupport) {
  EvpPkeyPtr key = EcKey("P-256");
  TPMT_PUBLIC area =
      ParsedArea(EccArea(0x000b, 0x0003, KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_X),
                         KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y)));
  for (std::uint16_t curve : {TPM2_ECC_NONE, TPM2_ECC_NIST_P192, TPM2_ECC_NIST_P224,
                              TPM2_ECC_BN_P256, TPM2_ECC_SM2_P256, std::uint16_t{0x7777}}) {
    area.parameters.eccDetail.curveID = curve;
    ExpectRefused(area, ErrorCode::kUnsupported, "curve " + std::to_string(curve));
  }
}

TEST(PublicKeyFromTpm, RefusesCoordinatesOfTheWrongSizeOrOffTheCurve) {
  EvpPkeyPtr key = EcKey("P-256");
  const Bytes x = LeftPad(KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_X), 32);
  const Bytes y = LeftPad(KeyParameter(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y), 32);
  ExpectRefused(ParsedArea(EccArea(0x000b, 0x0003, {}, y)), ErrorCode::kCorrupt,
                "0 and 32 bytes on P-256");
  ExpectRefused(ParsedArea(EccArea(0x000b, 0x0003, x, {})), ErrorCode::kCorrupt,
                "32 and 0 bytes on P-256");
  ExpectRefused(ParsedArea(EccArea(0x000b, 0x0003, Cat({Hex("00"), x}), y)), ErrorCode::kCorrupt,
                "33 and 32 bytes");
  // A P-384 point in a P-256 area.
  EvpPkeyPtr p384 = EcKey("P-384");
  ExpectRefused(ParsedArea(EccArea(
                    0x000b, 0x0003, LeftPad(KeyParameter(p384.get(), OSSL_PKEY_PARAM_EC_PUB_X), 48),
                    LeftPad(KeyParameter(p384.get(), OSSL_PKEY_PARAM_EC_PUB_Y), 48))),
                ErrorCode::kCorrupt, "48 and 48 bytes");
  Bytes off_curve = y;
  off_curve.back() ^= 1;
  auto refused = PublicKeyFromTpm(ParsedArea(EccArea(0x000b, 0x0003, x, off_curve)));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kCorrupt) << refused.error().ToString();
}

TEST(PublicKeyFromTpm, RefusesAModulusThatIsNotKeyBitsLong) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  const Bytes modulus = KeyParameter(key.get(), OSSL_PKEY_PARAM_RSA_N);
  ExpectRefused(ParsedArea(RsaArea(3072, 0, modulus)), ErrorCode::kCorrupt,
                "modulus of 256 bytes for a 3072-bit key");
  ExpectRefused(ParsedArea(RsaArea(2048, 0, Bytes(modulus.begin() + 1, modulus.end()))),
                ErrorCode::kCorrupt, "modulus of 255 bytes for a 2048-bit key");
  TPMT_PUBLIC empty = ParsedArea(RsaArea(2048, 0, modulus));
  empty.unique.rsa.size = 0;
  empty.parameters.rsaDetail.keyBits = 0;
  ExpectRefused(empty, ErrorCode::kCorrupt, "modulus of 0 bytes");
}

TEST(PublicKeyFromTpm, ObjectsWithoutAPublicKeyHaveNone) {
  TPMT_PUBLIC area{};
  area.nameAlg = TPM2_ALG_SHA256;
  for (std::uint16_t type : {TPM2_ALG_KEYEDHASH, TPM2_ALG_SYMCIPHER, TPM2_ALG_NULL}) {
    area.type = type;
    ExpectRefused(area, ErrorCode::kUnsupported, "has no public key");
  }
}

}  // namespace
}  // namespace attest::tpm
