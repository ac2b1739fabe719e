// The node id (DESIGN §3) is the SHA-256 of the EK's SubjectPublicKeyInfo:
// one TPM has one id whatever else its TPMT_PUBLIC says, and the openssl
// command line computes the same value from the key.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "attest/testing/test_support.h"
#include "attest/tpm/public_key.h"

#include "tpm_test_bytes.h"

namespace attest::tpm {
namespace {

using test_bytes::KeyParameter;

using attest::test::CommandOptions;
using attest::test::RunCommand;

EvpPkeyPtr MakeKey(const char* type, const char* group_or_null, unsigned int rsa_bits = 2048) {
  if (group_or_null != nullptr) {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, group_or_null));
  }
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, static_cast<size_t>(rsa_bits)));
}

template <typename Buffer>
void Fill(Buffer* buffer, const Bytes& bytes) {
  ASSERT_LE(bytes.size(), sizeof(buffer->buffer));
  buffer->size = static_cast<std::uint16_t>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), buffer->buffer);
}

// `key` as a TCG low-range EK public area (RSA 2048 with exponent 0, or
// ECC P-256), the form swtpm and tpm2_createek produce.
TPMT_PUBLIC EkArea(const EVP_PKEY* key) {
  TPMT_PUBLIC area{};
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  const Bytes policy(32, 0x83);  // only its difference matters here
  std::copy(policy.begin(), policy.end(), area.authPolicy.buffer);
  area.authPolicy.size = static_cast<std::uint16_t>(policy.size());
  TPMT_SYM_DEF_OBJECT symmetric{};
  symmetric.algorithm = TPM2_ALG_AES;
  symmetric.keyBits.aes = 128;
  symmetric.mode.aes = TPM2_ALG_CFB;
  if (EVP_PKEY_is_a(key, "RSA") == 1) {
    area.type = TPM2_ALG_RSA;
    area.parameters.rsaDetail.symmetric = symmetric;
    area.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    area.parameters.rsaDetail.keyBits = static_cast<TPMI_RSA_KEY_BITS>(EVP_PKEY_get_bits(key));
    area.parameters.rsaDetail.exponent = 0;
    Fill(&area.unique.rsa, KeyParameter(key, OSSL_PKEY_PARAM_RSA_N));
  } else {
    area.type = TPM2_ALG_ECC;
    area.parameters.eccDetail.symmetric = symmetric;
    area.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    Fill(&area.unique.ecc.x, KeyParameter(key, OSSL_PKEY_PARAM_EC_PUB_X));
    Fill(&area.unique.ecc.y, KeyParameter(key, OSSL_PKEY_PARAM_EC_PUB_Y));
  }
  return area;
}

std::string PublicKeyPem(const EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

// The reference value, computed by the openssl and coreutils tools only:
// `openssl pkey -pubin -outform DER | sha256sum` over the key's PEM.
std::string OpensslNodeId(const EVP_PKEY* key) {
  CommandOptions pem;
  pem.input = PublicKeyPem(key);
  auto der = RunCommand({"openssl", "pkey", "-pubin", "-outform", "DER"}, pem);
  EXPECT_EQ(der.exit_code, 0) << der.err;
  CommandOptions spki;
  spki.input = der.out;
  auto sum = RunCommand({"sha256sum"}, spki);
  EXPECT_EQ(sum.exit_code, 0) << sum.err;
  return sum.out.substr(0, 64);
}

std::string NodeIdOf(const TPMT_PUBLIC& area) {
  auto id = NodeId(area);
  EXPECT_TRUE(id.ok()) << id.error().ToString();
  return id.ok() ? *id : std::string();
}

class NodeIdTest : public ::testing::TestWithParam<const char*> {
 protected:
  EvpPkeyPtr Key() const {
    return std::string(GetParam()) == "RSA" ? MakeKey("RSA", nullptr) : MakeKey("EC", "P-256");
  }
};

TEST_P(NodeIdTest, IsTheSha256OfTheSubjectPublicKeyInfoOpensslPrints) {
  EvpPkeyPtr key = Key();
  const std::string id = NodeIdOf(EkArea(key.get()));
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(id, OpensslNodeId(key.get()));
  auto of_key = NodeIdOfPublicKey(key.get());
  ASSERT_TRUE(of_key.ok()) << of_key.error().ToString();
  EXPECT_EQ(*of_key, id);
}

// The hole: node_id hashed the marshaled TPMT_PUBLIC, so one EK key under
// another authPolicy, other attribute bits, another nameAlg or other
// symmetric parameters gave the same TPM a second id (dodging a per-node
// revocation). Each variant marshals differently and must keep the id.
TEST_P(NodeIdTest, OneTpmManyNodeIdsFromOtherPublicAreaFieldsIsClosed) {
  EvpPkeyPtr key = Key();
  const TPMT_PUBLIC base = EkArea(key.get());
  const std::string id = NodeIdOf(base);

  std::vector<TPMT_PUBLIC> variants(4, base);
  variants[0].authPolicy.size = 0;
  variants[1].objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
  variants[1].objectAttributes &= ~TPMA_OBJECT_ADMINWITHPOLICY;
  variants[2].nameAlg = TPM2_ALG_SHA384;
  if (base.type == TPM2_ALG_RSA) {
    variants[3].parameters.rsaDetail.symmetric.keyBits.aes = 256;
  } else {
    variants[3].parameters.eccDetail.symmetric.keyBits.aes = 256;
  }
  for (std::size_t i = 0; i < variants.size(); ++i) {
    EXPECT_NE(MarshalPublicArea(variants[i]), MarshalPublicArea(base)) << "variant " << i;
    EXPECT_EQ(NodeIdOf(variants[i]), id) << "variant " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(RsaAndEcc, NodeIdTest, ::testing::Values("RSA", "EC"),
                         [](const auto& test_param) { return std::string(test_param.param); });

// The hole's RSA form: an exponent of 0 means 65537 (TPM 2.0 Part 2,
// TPMS_RSA_PARMS), so both spellings are one key and one node.
TEST(NodeId, OneTpmManyNodeIdsFromExponentZeroOr65537IsClosed) {
  EvpPkeyPtr key = MakeKey("RSA", nullptr);
  TPMT_PUBLIC zero = EkArea(key.get());
  TPMT_PUBLIC explicit_exponent = zero;
  explicit_exponent.parameters.rsaDetail.exponent = 65537;
  ASSERT_NE(MarshalPublicArea(zero), MarshalPublicArea(explicit_exponent));
  EXPECT_EQ(NodeIdOf(zero), NodeIdOf(explicit_exponent));
  EXPECT_EQ(NodeIdOf(zero), OpensslNodeId(key.get()));

  // Another exponent is another key, and so another node.
  TPMT_PUBLIC three = zero;
  three.parameters.rsaDetail.exponent = 3;
  EXPECT_NE(NodeIdOf(three), NodeIdOf(zero));
}

TEST(NodeId, AnotherKeyIsAnotherNode) {
  EvpPkeyPtr first = MakeKey("EC", "P-256");
  EvpPkeyPtr second = MakeKey("EC", "P-256");
  EXPECT_NE(NodeIdOf(EkArea(first.get())), NodeIdOf(EkArea(second.get())));
}

// A key whose point was decoded compressed re-encodes compressed; the node
// id is taken from the key material, so it does not change.
TEST(NodeId, OfAPublicKeyDoesNotDependOnItsPointEncoding) {
  EvpPkeyPtr key = MakeKey("EC", "P-256");
  EvpPkeyPtr compressed(EVP_PKEY_dup(key.get()));
  ASSERT_TRUE(compressed);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(
                compressed.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"),
            1);
  ASSERT_NE(i2d_PUBKEY(compressed.get(), nullptr), i2d_PUBKEY(key.get(), nullptr));
  auto id = NodeIdOfPublicKey(compressed.get());
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(*id, NodeIdOf(EkArea(key.get())));
}

TEST(NodeId, KeysWithoutAnRsaOrNamedNistCurveAreRefused) {
  TPMT_PUBLIC keyed_hash{};
  keyed_hash.type = TPM2_ALG_KEYEDHASH;
  auto refused = NodeId(keyed_hash);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnsupported);

  EvpPkeyPtr koblitz = MakeKey("EC", "secp256k1");
  auto unsupported = NodeIdOfPublicKey(koblitz.get());
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(unsupported.error().message.find("secp256k1"), std::string::npos)
      << unsupported.error().message;

  EvpPkeyPtr edwards(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  auto ed25519 = NodeIdOfPublicKey(edwards.get());
  ASSERT_FALSE(ed25519.ok());
  EXPECT_EQ(ed25519.error().code, ErrorCode::kUnsupported);

  // A modulus that does not fill keyBits is malformed, not another node.
  EvpPkeyPtr rsa = MakeKey("RSA", nullptr);
  TPMT_PUBLIC short_modulus = EkArea(rsa.get());
  short_modulus.unique.rsa.size = 128;
  auto corrupt = NodeId(short_modulus);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(NodeIdOfPublicKey(nullptr).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace attest::tpm
