// MakeCredential without a TPM: its output opened by a software
// TPM2_ActivateCredential written here from Part 1 §24 (the swtpm tests
// prove the same against a real TPM), and untrusted inputs refused.
#include "attest/verifier/make_credential.h"

#include <algorithm>
#include <array>
#include <memory>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"

#include "kdf.h"
#include "test_certificates.h"

namespace attest::verifier {
namespace {

using internal::KDFa;
using internal::KDFe;
using test::EkPublicFor;
using test::MakeEcKey;
using test::MakeRsaKey;

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

// The seed as the TPM recovers it with the EK's private key.
Bytes RecoverSeed(EVP_PKEY* ek_private, const TPMT_PUBLIC& ek, const tpm::HashAlgorithm& hash,
                  ByteView encrypted) {
  Bytes seed(hash.digest_size);
  if (ek.type == TPM2_ALG_RSA) {
    EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, ek_private, nullptr));
    std::array<std::uint8_t, 9> label = {'I', 'D', 'E', 'N', 'T', 'I', 'T', 'Y', 0};
    std::array<OSSL_PARAM, 4> params = {
        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, const_cast<char*>("oaep"),
                                         0),
        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                         const_cast<char*>(hash.openssl_name), 0),
        OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, label.data(),
                                          label.size()),
        OSSL_PARAM_construct_end()};
    std::size_t size = 0;
    if (EVP_PKEY_decrypt_init_ex(context.get(), params.data()) != 1 ||
        EVP_PKEY_decrypt(context.get(), nullptr, &size, encrypted.data(), encrypted.size()) != 1) {
      return {};
    }
    Bytes plain(size);
    if (EVP_PKEY_decrypt(context.get(), plain.data(), &size, encrypted.data(), encrypted.size()) !=
            1 ||
        size != seed.size()) {
      return {};
    }
    std::copy_n(plain.begin(), size, seed.begin());
    return seed;
  }
  auto point =
      tpm::Unmarshal<TPMS_ECC_POINT>(encrypted, Tss2_MU_TPMS_ECC_POINT_Unmarshal, "TPMS_ECC_POINT");
  if (!point.ok()) return {};
  TPMT_PUBLIC ephemeral_area = ek;
  ephemeral_area.unique.ecc = *point;
  auto ephemeral = tpm::PublicKeyFromTpm(ephemeral_area);
  if (!ephemeral.ok()) return {};
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, ek_private, nullptr));
  Bytes z(static_cast<std::size_t>((EVP_PKEY_get_bits(ek_private) + 7) / 8));
  std::size_t z_size = z.size();
  if (EVP_PKEY_derive_init(context.get()) != 1 ||
      EVP_PKEY_derive_set_peer(context.get(), ephemeral->get()) != 1 ||
      EVP_PKEY_derive(context.get(), z.data(), &z_size) != 1 ||
      !KDFe(hash, z, "IDENTITY", {point->x.buffer, point->x.size},
            {ek.unique.ecc.x.buffer, ek.unique.ecc.x.size}, seed)
           .ok()) {
    return {};
  }
  return seed;
}

// TPM2_ActivateCredential in software; an error names the check that failed.
Result<Bytes> SoftwareActivate(EVP_PKEY* ek_private, ByteView ek_public,
                               const Credential& credential, ByteView name) {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC ek, tpm::ParsePublic(ek_public));
  const tpm::HashAlgorithm hash = *tpm::HashAlgorithmById(ek.publicArea.nameAlg);
  ATTEST_ASSIGN_OR_RETURN(
      auto secret, tpm::Unmarshal<TPM2B_ENCRYPTED_SECRET>(credential.encrypted_secret,
                                                          Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal,
                                                          "TPM2B_ENCRYPTED_SECRET"));
  ATTEST_ASSIGN_OR_RETURN(
      auto id_object,
      tpm::Unmarshal<TPM2B_ID_OBJECT>(credential.credential_blob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal,
                                      "TPM2B_ID_OBJECT"));
  Bytes seed = RecoverSeed(ek_private, ek.publicArea, hash, ByteView(secret.secret, secret.size));
  if (seed.empty()) return MakeError(ErrorCode::kCrypto, "seed");

  TPM2B_DIGEST integrity{};
  std::size_t offset = 0;
  if (Tss2_MU_TPM2B_DIGEST_Unmarshal(id_object.credential, id_object.size, &offset, &integrity) !=
      0) {
    return MakeError(ErrorCode::kCorrupt, "integrity");
  }
  Bytes encrypted(id_object.credential + offset, id_object.credential + id_object.size);
  Bytes hmac_key(hash.digest_size);
  ATTEST_RETURN_IF_ERROR(KDFa(hash, seed, "INTEGRITY", {}, {}, hmac_key));
  Bytes hmac_input = encrypted;
  hmac_input.insert(hmac_input.end(), name.begin(), name.end());
  Bytes expected(hash.digest_size);
  std::size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, hash.openssl_name, nullptr, hmac_key.data(), hmac_key.size(),
            hmac_input.data(), hmac_input.size(), expected.data(), expected.size(), &size);
  if (Bytes(integrity.buffer, integrity.buffer + integrity.size) != expected) {
    return MakeError(ErrorCode::kVerificationFailed, "integrity HMAC");
  }

  const std::size_t key_bytes = ek.publicArea.parameters.asymDetail.symmetric.keyBits.aes / 8;
  Bytes symmetric_key(key_bytes);
  ATTEST_RETURN_IF_ERROR(KDFa(hash, seed, "STORAGE", name, {}, symmetric_key));
  std::unique_ptr<EVP_CIPHER, OpensslDeleter<EVP_CIPHER_free>> cipher(
      EVP_CIPHER_fetch(nullptr, key_bytes == 32 ? "AES-256-CFB" : "AES-128-CFB", nullptr));
  std::unique_ptr<EVP_CIPHER_CTX, OpensslDeleter<EVP_CIPHER_CTX_free>> context(
      EVP_CIPHER_CTX_new());
  const std::array<std::uint8_t, 16> iv{};
  Bytes plain(encrypted.size() + 16);
  int written = 0;
  if (EVP_DecryptInit_ex2(context.get(), cipher.get(), symmetric_key.data(), iv.data(), nullptr) !=
          1 ||
      EVP_DecryptUpdate(context.get(), plain.data(), &written, encrypted.data(),
                        static_cast<int>(encrypted.size())) != 1) {
    return MakeError(ErrorCode::kCrypto, "decrypt");
  }
  plain.resize(static_cast<std::size_t>(written));
  ATTEST_ASSIGN_OR_RETURN(
      TPM2B_DIGEST recovered,
      tpm::Unmarshal<TPM2B_DIGEST>(plain, Tss2_MU_TPM2B_DIGEST_Unmarshal, "TPM2B_DIGEST"));
  return Bytes(recovered.buffer, recovered.buffer + recovered.size);
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
    auto recovered = SoftwareActivate(key.get(), ek_public, *credential, SampleName());
    ASSERT_TRUE(recovered.ok()) << recovered.error().ToString();
    EXPECT_EQ(*recovered, secret);

    auto refused = SoftwareActivate(key.get(), ek_public, *credential, SampleName(0x5d));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, "integrity HMAC");
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
