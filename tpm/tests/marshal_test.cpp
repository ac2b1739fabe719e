// Strict unmarshaling (every truncation and every trailing byte refused as
// kCorrupt, naming the type), TPM signatures checked with OpenSSL's own
// signatures as the reference, and the hash algorithm table.
#include "attest/tpm/marshal.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "attest/encoding.h"
#include "attest/openssl.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/public_key.h"
#include "attest/tpm/signature.h"

#include "tpm_test_bytes.h"

namespace attest::tpm {
namespace {

using test_bytes::Cat;
using test_bytes::Hex;
using test_bytes::Sized;

// An ECC P-256 TPM2B_PUBLIC laid out by hand (Part 2, 12.2.4/12.2.5); the
// point need not be on the curve for unmarshaling.
Bytes EccPublic() {
  return Sized(Cat({Hex("0023"
                        "000b"
                        "00050072"
                        "0000"
                        "0010"
                        "0018000b"
                        "0003"
                        "0010"),
                    Sized(Bytes(32, 0x11)), Sized(Bytes(32, 0x22))}));
}

// TPMT_SIGNATURE, ECDSA with SHA-256 (Part 2, 11.3.4).
Bytes EcdsaSignature(const Bytes& r, const Bytes& s, std::uint16_t hash = TPM2_ALG_SHA256) {
  return Cat({Hex("0018"),
              Bytes{static_cast<std::uint8_t>(hash >> 8), static_cast<std::uint8_t>(hash & 0xff)},
              Sized(r), Sized(s)});
}

Result<TPML_PCR_SELECTION> ParseSelection(ByteView bytes) {
  return Unmarshal<TPML_PCR_SELECTION>(bytes, Tss2_MU_TPML_PCR_SELECTION_Unmarshal,
                                       "TPML_PCR_SELECTION");
}

// Every proper prefix of `whole` and `whole` plus one byte are refused,
// with kCorrupt and the type's name; `whole` itself parses.
template <typename Parse>
void ExpectStrict(const Bytes& whole, const std::string& type_name, Parse parse) {
  ASSERT_TRUE(parse(whole).ok()) << type_name << ": " << parse(whole).error().ToString();
  for (std::size_t length = 0; length < whole.size(); ++length) {
    auto truncated = parse(ByteView(whole.data(), length));
    ASSERT_FALSE(truncated.ok()) << type_name << " truncated to " << length << " bytes parsed";
    EXPECT_EQ(truncated.error().code, ErrorCode::kCorrupt) << truncated.error().ToString();
    EXPECT_NE(truncated.error().message.find(type_name + " (" + std::to_string(length) +
                                             " bytes) does not parse"),
              std::string::npos)
        << truncated.error().message;
  }
  for (std::uint8_t extra : {0x00, 0xff}) {
    Bytes longer = whole;
    longer.push_back(extra);
    auto trailing = parse(longer);
    ASSERT_FALSE(trailing.ok()) << type_name << " with a trailing byte parsed";
    EXPECT_EQ(trailing.error().code, ErrorCode::kCorrupt);
    EXPECT_NE(trailing.error().message.find(type_name + " ends at byte " +
                                            std::to_string(whole.size()) + " but 1 bytes follow"),
              std::string::npos)
        << trailing.error().message;
  }
}

TEST(StrictUnmarshal, PublicAreaRefusesEveryTruncationAndTrailingBytes) {
  ExpectStrict(EccPublic(), "TPM2B_PUBLIC", [](ByteView bytes) { return ParsePublic(bytes); });
}

TEST(StrictUnmarshal, SignatureRefusesEveryTruncationAndTrailingBytes) {
  ExpectStrict(EcdsaSignature(Bytes(32, 1), Bytes(32, 2)), "TPMT_SIGNATURE",
               [](ByteView bytes) { return ParseSignature(bytes); });
}

TEST(StrictUnmarshal, PcrSelectionRefusesEveryTruncationAndTrailingBytes) {
  ExpectStrict(Hex("00000002"
                   "000b"
                   "03"
                   "870000"
                   "0004"
                   "03"
                   "000100"),
               "TPML_PCR_SELECTION", [](ByteView bytes) { return ParseSelection(bytes); });
}

// The TPM2B's size must be the size of what it holds: neither a public
// area that ends early inside it nor one that runs past it.
TEST(StrictUnmarshal, PublicAreaSizeMustMatchItsContent) {
  const Bytes whole = EccPublic();
  const Bytes area(whole.begin() + 2, whole.end());
  Bytes padded = Sized(Cat({area, Hex("00")}));  // one junk byte inside the TPM2B
  auto inside = ParsePublic(padded);
  ASSERT_FALSE(inside.ok());
  EXPECT_EQ(inside.error().code, ErrorCode::kCorrupt);
  Bytes short_size = Sized(area);
  short_size[1] -= 1;  // the size says one byte less than the area takes
  auto past = ParsePublic(short_size);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(past.error().message.find("says its public area is " + std::to_string(area.size() - 1) +
                                      " bytes, but it is " + std::to_string(area.size())),
            std::string::npos)
      << past.error().message;
}

TEST(StrictUnmarshal, UnknownSelectorsAreRefused) {
  Bytes public_key = EccPublic();
  public_key[2] = 0x77;  // type 0x7723
  EXPECT_EQ(ParsePublic(public_key).error().code, ErrorCode::kCorrupt);
  Bytes signature = EcdsaSignature(Bytes(32, 1), Bytes(32, 2));
  signature[0] = 0x77;  // sigAlg 0x7718
  EXPECT_EQ(ParseSignature(signature).error().code, ErrorCode::kCorrupt);
  // A digest longer than any TPM digest.
  EXPECT_EQ(ParseSignature(EcdsaSignature(Bytes(32, 1), Bytes(200, 2))).error().code,
            ErrorCode::kCorrupt);
}

TEST(Marshal, WritesWhatUnmarshalReads) {
  auto parsed = ParsePublic(EccPublic());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(Marshal(*parsed, Tss2_MU_TPM2B_PUBLIC_Marshal), EccPublic());
  const Bytes signature = EcdsaSignature(Bytes(31, 1), Bytes(32, 2));
  EXPECT_EQ(Marshal(ParseSignature(signature).value(), Tss2_MU_TPMT_SIGNATURE_Marshal), signature);
}

// --- signatures -----------------------------------------------------------

const Bytes kMessage = Hex("ff544347801800220022000b");  // like a TPMS_ATTEST's start

EvpPkeyPtr Generate(const char* type, const char* curve_or_null) {
  if (curve_or_null != nullptr) {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve_or_null));
  }
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, static_cast<size_t>(2048)));
}

// OpenSSL's own signature over `message`, optionally RSA-PSS with `salt`.
Bytes OpensslSign(EVP_PKEY* key, const EVP_MD* md, const Bytes& message, int pss_salt = -100) {
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_context = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(context.get(), &pkey_context, md, nullptr, key), 1);
  if (pss_salt != -100) {
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(pkey_context, RSA_PKCS1_PSS_PADDING), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_context, pss_salt), 1);
  }
  std::size_t size = 0;
  EXPECT_EQ(EVP_DigestSign(context.get(), nullptr, &size, message.data(), message.size()), 1);
  Bytes signature(size);
  EXPECT_EQ(EVP_DigestSign(context.get(), signature.data(), &size, message.data(), message.size()),
            1);
  signature.resize(size);
  return signature;
}

// The TPM form of an OpenSSL ECDSA signature: r and s as plain integers.
Bytes TpmEcdsa(const Bytes& der, std::uint16_t hash) {
  const unsigned char* cursor = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size()));
  EXPECT_NE(sig, nullptr);
  auto bytes = [](const BIGNUM* number) {
    Bytes out(static_cast<std::size_t>(BN_num_bytes(number)));
    BN_bn2bin(number, out.data());
    return out;
  };
  Bytes tpm = EcdsaSignature(bytes(ECDSA_SIG_get0_r(sig)), bytes(ECDSA_SIG_get0_s(sig)), hash);
  ECDSA_SIG_free(sig);
  return tpm;
}

Bytes TpmRsa(std::uint16_t scheme, const Bytes& signature) {
  return Cat({Bytes{static_cast<std::uint8_t>(scheme >> 8), static_cast<std::uint8_t>(scheme)},
              Hex("000b"), Sized(signature)});
}

Status Verify(EVP_PKEY* key, const Bytes& message, const Bytes& tpm_signature) {
  auto parsed = ParseSignature(tpm_signature);
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
  if (!parsed.ok()) return parsed.error();
  return VerifySignature(key, message, *parsed);
}

TEST(VerifySignature, EcdsaOnEachCurveWithItsHash) {
  struct Case {
    const char* curve;
    const EVP_MD* md;
    std::uint16_t hash;
  };
  for (const Case& c :
       {Case{"P-256", EVP_sha256(), TPM2_ALG_SHA256}, Case{"P-384", EVP_sha384(), TPM2_ALG_SHA384},
        Case{"P-521", EVP_sha512(), TPM2_ALG_SHA512}}) {
    EvpPkeyPtr key = Generate("EC", c.curve);
    const Bytes signature = TpmEcdsa(OpensslSign(key.get(), c.md, kMessage), c.hash);
    Status verified = Verify(key.get(), kMessage, signature);
    EXPECT_TRUE(verified.ok()) << c.curve << ": " << verified.error().ToString();
    Bytes altered = kMessage;
    altered.back() ^= 1;
    Status refused = Verify(key.get(), altered, signature);
    ASSERT_FALSE(refused.ok()) << c.curve;
    EXPECT_EQ(refused.error().code, ErrorCode::kVerificationFailed);
    EvpPkeyPtr other = Generate("EC", c.curve);
    EXPECT_EQ(Verify(other.get(), kMessage, signature).error().code,
              ErrorCode::kVerificationFailed);
  }
}

TEST(VerifySignature, RsassaAndRsapssWithEitherSaltLength) {
  EvpPkeyPtr key = Generate("RSA", nullptr);
  const Bytes pkcs1 = OpensslSign(key.get(), EVP_sha256(), kMessage);
  EXPECT_TRUE(Verify(key.get(), kMessage, TpmRsa(TPM2_ALG_RSASSA, pkcs1)).ok());
  // The scheme is part of what is checked.
  EXPECT_EQ(Verify(key.get(), kMessage, TpmRsa(TPM2_ALG_RSAPSS, pkcs1)).error().code,
            ErrorCode::kVerificationFailed);
  for (int salt : {RSA_PSS_SALTLEN_DIGEST, RSA_PSS_SALTLEN_MAX}) {
    const Bytes pss = OpensslSign(key.get(), EVP_sha256(), kMessage, salt);
    Status verified = Verify(key.get(), kMessage, TpmRsa(TPM2_ALG_RSAPSS, pss));
    EXPECT_TRUE(verified.ok()) << "salt " << salt << ": " << verified.error().ToString();
    EXPECT_EQ(Verify(key.get(), kMessage, TpmRsa(TPM2_ALG_RSASSA, pss)).error().code,
              ErrorCode::kVerificationFailed);
  }
}

TEST(VerifySignature, RefusesSha1SchemesThatDoNotFitTheKeyAndUnknownSchemes) {
  EvpPkeyPtr ec = Generate("EC", "P-256");
  EvpPkeyPtr rsa = Generate("RSA", nullptr);
  // A valid ECDSA-SHA1 signature is still refused: SHA-1 is not accepted.
  Status sha1 =
      Verify(ec.get(), kMessage, TpmEcdsa(OpensslSign(ec.get(), EVP_sha1(), kMessage), 0x0004));
  ASSERT_FALSE(sha1.ok());
  EXPECT_EQ(sha1.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(sha1.error().message.find("0x0004"), std::string::npos) << sha1.error().message;

  const Bytes ecdsa = TpmEcdsa(OpensslSign(ec.get(), EVP_sha256(), kMessage), TPM2_ALG_SHA256);
  EXPECT_EQ(Verify(rsa.get(), kMessage, ecdsa).error().code, ErrorCode::kUnsupported);
  const Bytes rsassa = TpmRsa(TPM2_ALG_RSASSA, OpensslSign(rsa.get(), EVP_sha256(), kMessage));
  EXPECT_EQ(Verify(ec.get(), kMessage, rsassa).error().code, ErrorCode::kUnsupported);

  // HMAC (0x0005) parses as a TPMT_SIGNATURE but is no public-key signature.
  const Bytes hmac = Cat({Hex("0005"
                              "000b"),
                          Bytes(32, 0x5a)});
  Status refused = Verify(ec.get(), kMessage, hmac);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(refused.error().message.find("0x0005"), std::string::npos);
}

// --- hash algorithms --------------------------------------------------------

TEST(HashAlgorithm, TableAgreesWithOpenssl) {
  const Bytes data = Hex("000102030405060708090a");
  for (const char* name : {"sha1", "sha256", "sha384", "sha512", "sm3_256"}) {
    auto algorithm = HashAlgorithmByName(name);
    ASSERT_TRUE(algorithm.ok()) << name;
    auto by_id = HashAlgorithmById(algorithm->id);
    ASSERT_TRUE(by_id.has_value());
    EXPECT_EQ(by_id->name, name);
    EVP_MD* md = EVP_MD_fetch(nullptr, algorithm->openssl_name, nullptr);
    ASSERT_NE(md, nullptr) << algorithm->openssl_name;
    EXPECT_EQ(static_cast<std::size_t>(EVP_MD_get_size(md)), algorithm->digest_size);
    Bytes expected(algorithm->digest_size);
    unsigned int size = 0;
    ASSERT_EQ(EVP_Digest(data.data(), data.size(), expected.data(), &size, md, nullptr), 1);
    EVP_MD_free(md);
    EXPECT_EQ(HashWith(*algorithm, data).value(), expected) << name;
  }
  EXPECT_EQ(HashAlgorithmByName("sha256")->id, 0x000b);
  EXPECT_EQ(HashAlgorithmByName("sm3_256")->id, 0x0012);
}

TEST(HashAlgorithm, UnknownOnesAreRefused) {
  EXPECT_FALSE(HashAlgorithmById(TPM2_ALG_NULL).has_value());
  EXPECT_FALSE(HashAlgorithmById(0x0027).has_value());  // SHA3-256: not in this build
  for (const char* name : {"", "SHA256", "sha-256", "md5", "sha256 "}) {
    auto algorithm = HashAlgorithmByName(name);
    ASSERT_FALSE(algorithm.ok()) << name;
    EXPECT_EQ(algorithm.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(algorithm.error().message.find("expected sha1, sha256"), std::string::npos);
  }
}

TEST(HashAlgorithm, IdsPrintAsFourHexDigits) {
  EXPECT_EQ(AlgorithmIdHex(0x000b), "0x000b");
  EXPECT_EQ(AlgorithmIdHex(0x0000), "0x0000");
  EXPECT_EQ(AlgorithmIdHex(0xabcd), "0xabcd");
  EXPECT_EQ(AlgorithmIdHex(0xffff), "0xffff");
}

}  // namespace
}  // namespace attest::tpm
