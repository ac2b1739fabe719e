// MakeCredential without a TPM: its output opened by the software
// TPM2_ActivateCredential of Part 1 §24 (testing/software_activate.h; the
// swtpm tests prove the same against a real TPM), and untrusted inputs
// refused.
#include "attest/verifier/make_credential.h"

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"

#include "software_activate.h"
#include "test_certificates.h"

namespace attest::verifier {
namespace {

using test::EkPublicFor;
using test::MakeEcKey;
using test::MakeRsaKey;
using test::SoftwareActivateCredential;

Bytes Random(std::size_t size) {
  Bytes bytes(size);
  EXPECT_EQ(RAND_bytes(bytes.data(), static_cast<int>(size)), 1);
  return bytes;
}

Bytes SampleName(std::uint8_t fill = 0x5c) {
  Bytes name(34, fill);  // TPM_ALG_SHA256 || 32 bytes of `fill`
  name[0] = 0x00;
  name[1] = 0x0b;
  return name;
}

struct KeyCase {
  const char* name;
  EvpPkeyPtr (*make)();
  std::size_t max_secret;
};

class MakeCredentialRoundTripTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(MakeCredentialRoundTripTest, OnlyTheNamedObjectRecoversTheSecret) {
  EvpPkeyPtr key = GetParam().make();
  ASSERT_TRUE(key);
  const Bytes ek_public = EkPublicFor(key.get());
  for (std::size_t size : {std::size_t{1}, std::size_t{32}, GetParam().max_secret}) {
    const Bytes secret = Random(size);
    auto credential = MakeCredential(ek_public, secret, SampleName());
    ASSERT_TRUE(credential.ok()) << credential.error().ToString();
    auto recovered = SoftwareActivateCredential(key.get(), ek_public, *credential, SampleName());
    ASSERT_TRUE(recovered.ok()) << recovered.error().ToString();
    EXPECT_EQ(*recovered, secret);

    auto refused = SoftwareActivateCredential(key.get(), ek_public, *credential, SampleName(0x5d));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kVerificationFailed);
    EXPECT_NE(refused.error().message.find("integrity HMAC does not match"), std::string::npos)
        << refused.error().message;
  }
  // A fresh seed every time.
  auto first = MakeCredential(ek_public, Random(32), SampleName());
  auto second = MakeCredential(ek_public, Random(32), SampleName());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->encrypted_secret, second->encrypted_secret);
}

INSTANTIATE_TEST_SUITE_P(
    EkKinds, MakeCredentialRoundTripTest,
    ::testing::Values(KeyCase{"EccP256", [] { return MakeEcKey("P-256"); }, 32},
                      KeyCase{"EccP384Sha384Aes256", [] { return MakeEcKey("P-384"); }, 48},
                      KeyCase{"Rsa2048", [] { return MakeRsaKey(2048); }, 32}),
    [](const auto& test_param) { return std::string(test_param.param.name); });

// The EK's public area, changed by `edit`, marshaled again.
Bytes EditedEk(EVP_PKEY* key, void (*edit)(TPMT_PUBLIC*)) {
  auto parsed = tpm::ParsePublic(EkPublicFor(key));
  EXPECT_TRUE(parsed.ok());
  edit(&parsed->publicArea);
  return tpm::MarshalPublic(*parsed);
}

void ExpectRefused(ByteView ek_public, ByteView secret, ByteView name, ErrorCode code,
                   std::string_view words) {
  auto refused = MakeCredential(ek_public, secret, name);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, code) << refused.error().ToString();
  EXPECT_NE(refused.error().message.find(words), std::string::npos) << refused.error().message;
}

TEST(MakeCredentialTest, KeysThatAreNotStorageKeysAreRefused) {
  EvpPkeyPtr key = MakeEcKey("P-256");
  const Bytes secret(32, 1);
  ExpectRefused(
      EditedEk(key.get(),
               [](TPMT_PUBLIC* area) { area->objectAttributes |= TPMA_OBJECT_SIGN_ENCRYPT; }),
      secret, SampleName(), ErrorCode::kInvalidArgument, "not a storage key");
  ExpectRefused(
      EditedEk(key.get(),
               [](TPMT_PUBLIC* area) { area->objectAttributes &= ~TPMA_OBJECT_RESTRICTED; }),
      secret, SampleName(), ErrorCode::kInvalidArgument, "not a storage key");
  ExpectRefused(EditedEk(key.get(),
                         [](TPMT_PUBLIC* area) {
                           area->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
                         }),
                secret, SampleName(), ErrorCode::kUnsupported, "AES-128/256-CFB");
  ExpectRefused(EditedEk(key.get(),
                         [](TPMT_PUBLIC* area) {
                           area->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CBC;
                         }),
                secret, SampleName(), ErrorCode::kUnsupported, "AES-128/256-CFB");
  ExpectRefused(EditedEk(key.get(), [](TPMT_PUBLIC* area) { area->nameAlg = TPM2_ALG_SHA1; }),
                secret, SampleName(), ErrorCode::kUnsupported, "name algorithm");
  ExpectRefused(EditedEk(key.get(),
                         [](TPMT_PUBLIC* area) {
                           area->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDH;
                           area->parameters.eccDetail.scheme.details.ecdh.hashAlg = TPM2_ALG_SHA256;
                         }),
                secret, SampleName(), ErrorCode::kInvalidArgument, "scheme");
  // A point that is not on the curve.
  ExpectRefused(
      EditedEk(key.get(), [](TPMT_PUBLIC* area) { area->unique.ecc.y.buffer[5] ^= 0x01; }), secret,
      SampleName(), ErrorCode::kCorrupt, "EK public key");
}

TEST(MakeCredentialTest, MalformedInputsAreRefused) {
  EvpPkeyPtr key = MakeEcKey("P-256");
  const Bytes ek_public = EkPublicFor(key.get());
  ExpectRefused(ek_public, {}, SampleName(), ErrorCode::kInvalidArgument, "secret of 0 bytes");
  ExpectRefused(ek_public, Bytes(33, 1), SampleName(), ErrorCode::kInvalidArgument,
                "1 to 32 for the EK's sha256");
  Bytes short_name = SampleName();
  short_name.pop_back();
  ExpectRefused(ek_public, Bytes(32, 1), short_name, ErrorCode::kInvalidArgument, "TPM name");
  Bytes unknown_algorithm = SampleName();
  unknown_algorithm[1] = 0x7f;
  ExpectRefused(ek_public, Bytes(32, 1), unknown_algorithm, ErrorCode::kInvalidArgument,
                "TPM name");
  ExpectRefused(ek_public, Bytes(32, 1), {}, ErrorCode::kInvalidArgument, "TPM name");

  Bytes trailing = ek_public;
  trailing.push_back(0);
  ExpectRefused(trailing, Bytes(32, 1), SampleName(), ErrorCode::kCorrupt, "TPM2B_PUBLIC");
  Bytes truncated(ek_public.begin(), ek_public.end() - 3);
  ExpectRefused(truncated, Bytes(32, 1), SampleName(), ErrorCode::kCorrupt, "TPM2B_PUBLIC");
}

}  // namespace
}  // namespace attest::verifier
