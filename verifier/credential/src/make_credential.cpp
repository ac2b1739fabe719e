#include "attest/verifier/make_credential.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

#include "attest/openssl.h"
#include "attest/secret.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"

#include "ek_parameters.h"
#include "kdf.h"

namespace attest::verifier {
namespace {

using internal::EkParameters;

using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, OpensslDeleter<EVP_CIPHER_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpensslDeleter<EVP_CIPHER_CTX_free>>;

// The label TPM2_ActivateCredential decrypts the seed with: "IDENTITY" and
// its NUL (Part 1 §24 and its secret-sharing annexes).
constexpr std::array<std::uint8_t, 9> kIdentityLabel = {'I', 'D', 'E', 'N', 'T',
                                                        'I', 'T', 'Y', '\0'};

// The seed and the bytes that carry it to the TPM (the contents of a
// TPM2B_ENCRYPTED_SECRET).
struct ProtectedSeed {
  SecretBytes seed;
  Bytes encrypted;
};

Status CheckObjectName(ByteView name) {
  std::optional<tpm::HashAlgorithm> algorithm;
  if (name.size() >= 2) algorithm = tpm::HashAlgorithmById(std::uint16_t(name[0] << 8 | name[1]));
  if (!algorithm || name.size() != 2 + algorithm->digest_size) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "object name of " + std::to_string(name.size()) +
                         " bytes is not a TPM name (hash algorithm id || digest)");
  }
  return OkStatus();
}

// Secret sharing with an RSA EK (Part 1, RSA annex): the seed under
// RSA-OAEP, nameAlg for both the OAEP and the MGF1 hash, label "IDENTITY\0".
Result<ProtectedSeed> RsaOaepSeed(EVP_PKEY* ek, const tpm::HashAlgorithm& hash) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Allocate(hash.digest_size));
  ProtectedSeed result{std::move(seed), {}};
  if (RAND_bytes(result.seed.data(), static_cast<int>(result.seed.size())) != 1) {
    return OpensslError("MakeCredential: random seed");
  }
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, ek, nullptr));
  std::array<std::uint8_t, kIdentityLabel.size()> label = kIdentityLabel;
  std::array<OSSL_PARAM, 5> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                       const_cast<char*>(OSSL_PKEY_RSA_PAD_MODE_OAEP), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                       const_cast<char*>(hash.openssl_name), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST,
                                       const_cast<char*>(hash.openssl_name), 0),
      OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, label.data(),
                                        label.size()),
      OSSL_PARAM_construct_end()};
  std::size_t size = 0;
  if (!context || EVP_PKEY_encrypt_init_ex(context.get(), params.data()) != 1 ||
      EVP_PKEY_encrypt(context.get(), nullptr, &size, result.seed.data(), result.seed.size()) !=
          1) {
    return OpensslError("MakeCredential: RSA-OAEP setup");
  }
  result.encrypted.resize(size);
  if (EVP_PKEY_encrypt(context.get(), result.encrypted.data(), &size, result.seed.data(),
                       result.seed.size()) != 1) {
    return OpensslError("MakeCredential: RSA-OAEP encrypt");
  }
  result.encrypted.resize(size);
  return result;
}

// `key`'s affine coordinate `param` (OSSL_PKEY_PARAM_EC_PUB_X/Y), left-padded
// to the field size as the TPM writes it.
Status PutCoordinate(EVP_PKEY* key, const char* param, std::size_t field_size,
                     TPM2B_ECC_PARAMETER* out) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) return OpensslError("ephemeral ECC point");
  BignumPtr coordinate(raw);
  if (field_size > sizeof(out->buffer) ||
      BN_bn2binpad(coordinate.get(), out->buffer, static_cast<int>(field_size)) < 0) {
    return MakeError(ErrorCode::kInternal, "ephemeral ECC coordinate does not fit");
  }
  out->size = static_cast<std::uint16_t>(field_size);
  return OkStatus();
}

// Secret sharing with an ECC EK (Part 1, ECC annex): one-pass ECDH with an
// ephemeral key on the EK's curve; seed = KDFe(nameAlg, Z.x, "IDENTITY",
// ephemeral.x, EK.x); the ephemeral point (TPMS_ECC_POINT) goes to the TPM.
Result<ProtectedSeed> EcdhSeed(EVP_PKEY* ek, const TPMT_PUBLIC& ek_area,
                               const tpm::HashAlgorithm& hash) {
  std::array<char, 64> group{};
  std::size_t group_length = 0;
  if (EVP_PKEY_get_utf8_string_param(ek, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                     &group_length) != 1) {
    return OpensslError("MakeCredential: EK curve");
  }
  const auto field_size = static_cast<std::size_t>((EVP_PKEY_get_bits(ek) + 7) / 8);
  EvpPkeyCtxPtr generator(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw_ephemeral = nullptr;
  if (!generator || EVP_PKEY_keygen_init(generator.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(generator.get(), group.data()) != 1 ||
      EVP_PKEY_keygen(generator.get(), &raw_ephemeral) != 1) {
    return OpensslError("MakeCredential: ephemeral ECC key");
  }
  EvpPkeyPtr ephemeral(raw_ephemeral);

  // Z: the shared point's x coordinate, field-size bytes. set_peer checks
  // that the EK's point is on the curve.
  EvpPkeyCtxPtr agreement(EVP_PKEY_CTX_new_from_pkey(nullptr, ephemeral.get(), nullptr));
  std::size_t z_size = 0;
  if (!agreement || EVP_PKEY_derive_init(agreement.get()) != 1 ||
      EVP_PKEY_derive_set_peer(agreement.get(), ek) != 1 ||
      EVP_PKEY_derive(agreement.get(), nullptr, &z_size) != 1 || z_size != field_size) {
    return OpensslError("MakeCredential: ECDH with the EK", ErrorCode::kInvalidArgument);
  }
  ATTEST_ASSIGN_OR_RETURN(SecretBytes z, SecretBytes::Allocate(z_size));
  if (EVP_PKEY_derive(agreement.get(), z.data(), &z_size) != 1 || z_size != z.size()) {
    return OpensslError("MakeCredential: ECDH");
  }

  TPMS_ECC_POINT point{};
  ATTEST_RETURN_IF_ERROR(
      PutCoordinate(ephemeral.get(), OSSL_PKEY_PARAM_EC_PUB_X, field_size, &point.x));
  ATTEST_RETURN_IF_ERROR(
      PutCoordinate(ephemeral.get(), OSSL_PKEY_PARAM_EC_PUB_Y, field_size, &point.y));
  ATTEST_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Allocate(hash.digest_size));
  ProtectedSeed result{std::move(seed), {}};
  const TPM2B_ECC_PARAMETER& ek_x = ek_area.unique.ecc.x;
  ATTEST_RETURN_IF_ERROR(internal::KDFe(hash, z.view(), "IDENTITY", {point.x.buffer, point.x.size},
                                        {ek_x.buffer, ek_x.size}, result.seed.span()));
  result.encrypted = tpm::Marshal(point, Tss2_MU_TPMS_ECC_POINT_Marshal);
  if (result.encrypted.empty()) return MakeError(ErrorCode::kInternal, "marshal TPMS_ECC_POINT");
  return result;
}

// encIdentity: AES-CFB with a zero IV, which is safe because every
// credential has its own key (symKey derives from a fresh seed).
Result<Bytes> AesCfbEncrypt(const EkParameters& ek, ByteView key, ByteView plaintext) {
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, ek.cipher_name, nullptr));
  EvpCipherCtxPtr context(EVP_CIPHER_CTX_new());
  const std::array<std::uint8_t, 16> iv{};
  Bytes out(plaintext.size() + 16);
  int written = 0;
  int final_written = 0;
  if (!cipher || !context ||
      EVP_EncryptInit_ex2(context.get(), cipher.get(), key.data(), iv.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(context.get(), out.data(), &written, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(context.get(), out.data() + written, &final_written) != 1) {
    return OpensslError(std::string("MakeCredential: ") + ek.cipher_name);
  }
  out.resize(static_cast<std::size_t>(written) + static_cast<std::size_t>(final_written));
  return out;
}

Result<Bytes> Hmac(const tpm::HashAlgorithm& hash, ByteView key, ByteView data) {
  Bytes out(hash.digest_size);
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, hash.openssl_name, nullptr, key.data(), key.size(),
                data.data(), data.size(), out.data(), out.size(), &size) == nullptr ||
      size != out.size()) {
    return OpensslError("MakeCredential: HMAC");
  }
  return out;
}

// Part 1 §24 (symmetric encryption, then HMAC): the credential blob from
// the seed. Wipes every key it derives.
Result<Bytes> ProtectCredential(const EkParameters& ek, ByteView seed, ByteView secret,
                                ByteView name) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes symmetric_key, SecretBytes::Allocate(ek.symmetric_key_bytes));
  ATTEST_RETURN_IF_ERROR(
      internal::KDFa(ek.name_alg, seed, "STORAGE", name, {}, symmetric_key.span()));
  // The plaintext is the credential as a TPM2B_DIGEST, size prefix included.
  TPM2B_DIGEST credential{};
  credential.size = static_cast<std::uint16_t>(secret.size());
  std::copy(secret.begin(), secret.end(), credential.buffer);
  ATTEST_ASSIGN_OR_RETURN(SecretBytes plaintext, SecretBytes::Allocate(2 + secret.size()));
  std::size_t offset = 0;
  TSS2_RC rc =
      Tss2_MU_TPM2B_DIGEST_Marshal(&credential, plaintext.data(), plaintext.size(), &offset);
  OPENSSL_cleanse(&credential, sizeof(credential));
  if (rc != 0 || offset != plaintext.size()) {
    return MakeError(ErrorCode::kInternal, "marshal credential TPM2B_DIGEST");
  }
  ATTEST_ASSIGN_OR_RETURN(Bytes encrypted,
                          AesCfbEncrypt(ek, symmetric_key.view(), plaintext.view()));

  ATTEST_ASSIGN_OR_RETURN(SecretBytes hmac_key, SecretBytes::Allocate(ek.name_alg.digest_size));
  ATTEST_RETURN_IF_ERROR(internal::KDFa(ek.name_alg, seed, "INTEGRITY", {}, {}, hmac_key.span()));
  Bytes hmac_input = encrypted;
  hmac_input.insert(hmac_input.end(), name.begin(), name.end());
  ATTEST_ASSIGN_OR_RETURN(Bytes outer_hmac, Hmac(ek.name_alg, hmac_key.view(), hmac_input));

  TPM2B_DIGEST integrity{};
  integrity.size = static_cast<std::uint16_t>(outer_hmac.size());
  std::copy(outer_hmac.begin(), outer_hmac.end(), integrity.buffer);
  Bytes contents = tpm::Marshal(integrity, Tss2_MU_TPM2B_DIGEST_Marshal);
  contents.insert(contents.end(), encrypted.begin(), encrypted.end());
  TPM2B_ID_OBJECT id_object{};
  if (contents.size() > sizeof(id_object.credential)) {
    return MakeError(ErrorCode::kInternal, "TPM2B_ID_OBJECT overflow");
  }
  id_object.size = static_cast<std::uint16_t>(contents.size());
  std::copy(contents.begin(), contents.end(), id_object.credential);
  return tpm::Marshal(id_object, Tss2_MU_TPM2B_ID_OBJECT_Marshal);
}

}  // namespace

Result<Credential> MakeCredential(ByteView ek_public, ByteView secret, ByteView object_name) {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC parsed, tpm::ParsePublic(ek_public));
  const TPMT_PUBLIC& area = parsed.publicArea;
  ATTEST_ASSIGN_OR_RETURN(EkParameters ek, internal::CheckCredentialKey(area));
  if (secret.empty() || secret.size() > ek.name_alg.digest_size) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "credential secret of " + std::to_string(secret.size()) + " bytes (1 to " +
                         std::to_string(ek.name_alg.digest_size) + " for the EK's " +
                         std::string(ek.name_alg.name) + " name algorithm)");
  }
  ATTEST_RETURN_IF_ERROR(CheckObjectName(object_name));
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr key,
                          std::move(tpm::PublicKeyFromTpm(area)).WithContext("EK public key"));

  ATTEST_ASSIGN_OR_RETURN(ProtectedSeed seed, area.type == TPM2_ALG_RSA
                                                  ? RsaOaepSeed(key.get(), ek.name_alg)
                                                  : EcdhSeed(key.get(), area, ek.name_alg));
  TPM2B_ENCRYPTED_SECRET encrypted_secret{};
  if (seed.encrypted.size() > sizeof(encrypted_secret.secret)) {
    return MakeError(ErrorCode::kInternal, "TPM2B_ENCRYPTED_SECRET overflow");
  }
  encrypted_secret.size = static_cast<std::uint16_t>(seed.encrypted.size());
  std::copy(seed.encrypted.begin(), seed.encrypted.end(), encrypted_secret.secret);

  Credential credential;
  ATTEST_ASSIGN_OR_RETURN(credential.credential_blob,
                          ProtectCredential(ek, seed.seed.view(), secret, object_name));
  credential.encrypted_secret =
      tpm::Marshal(encrypted_secret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal);
  if (credential.credential_blob.empty() || credential.encrypted_secret.empty()) {
    return MakeError(ErrorCode::kInternal, "marshal credential");
  }
  return credential;
}

}  // namespace attest::verifier
