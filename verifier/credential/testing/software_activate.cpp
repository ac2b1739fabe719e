#include "software_activate.h"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "attest/openssl.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"

#include "kdf.h"

namespace attest::verifier::test {
namespace {

using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, OpensslDeleter<EVP_CIPHER_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpensslDeleter<EVP_CIPHER_CTX_free>>;

// RSA EK: the seed is RSA-OAEP encrypted under the EK, the name algorithm
// for OAEP and MGF1, label "IDENTITY\0".
Result<Bytes> RecoverRsaSeed(EVP_PKEY* ek_private, const tpm::HashAlgorithm& hash,
                             ByteView carried) {
  std::array<std::uint8_t, 9> label = {'I', 'D', 'E', 'N', 'T', 'I', 'T', 'Y', 0};
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
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, ek_private, nullptr));
  Bytes plain(static_cast<std::size_t>(EVP_PKEY_get_size(ek_private)));
  std::size_t size = plain.size();
  if (!context || EVP_PKEY_decrypt_init_ex(context.get(), params.data()) != 1 ||
      EVP_PKEY_decrypt(context.get(), plain.data(), &size, carried.data(), carried.size()) != 1 ||
      size != hash.digest_size) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "ActivateCredential: the seed does not decrypt with this EK");
  }
  plain.resize(size);
  return plain;
}

// ECC EK: Z = x of (EK private * the ephemeral point carried), and the
// seed = KDFe(Z, "IDENTITY", ephemeral x, EK x).
Result<Bytes> RecoverEccSeed(EVP_PKEY* ek_private, const TPMT_PUBLIC& ek,
                             const tpm::HashAlgorithm& hash, ByteView carried) {
  ATTEST_ASSIGN_OR_RETURN(
      auto point,
      tpm::Unmarshal<TPMS_ECC_POINT>(carried, Tss2_MU_TPMS_ECC_POINT_Unmarshal, "TPMS_ECC_POINT"));
  TPMT_PUBLIC ephemeral_area = ek;
  ephemeral_area.unique.ecc = point;
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr ephemeral, tpm::PublicKeyFromTpm(ephemeral_area));
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, ek_private, nullptr));
  Bytes z(static_cast<std::size_t>((EVP_PKEY_get_bits(ek_private) + 7) / 8));
  std::size_t z_size = z.size();
  if (!context || EVP_PKEY_derive_init(context.get()) != 1 ||
      EVP_PKEY_derive_set_peer(context.get(), ephemeral.get()) != 1 ||
      EVP_PKEY_derive(context.get(), z.data(), &z_size) != 1 || z_size != z.size()) {
    return OpensslError("ActivateCredential: ECDH");
  }
  Bytes seed(hash.digest_size);
  ATTEST_RETURN_IF_ERROR(internal::KDFe(hash, z, "IDENTITY", {point.x.buffer, point.x.size},
                                        {ek.unique.ecc.x.buffer, ek.unique.ecc.x.size}, seed));
  return seed;
}

Result<Bytes> Hmac(const tpm::HashAlgorithm& hash, ByteView key, ByteView data) {
  Bytes out(hash.digest_size);
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, hash.openssl_name, nullptr, key.data(), key.size(),
                data.data(), data.size(), out.data(), out.size(), &size) == nullptr ||
      size != out.size()) {
    return OpensslError("ActivateCredential: HMAC");
  }
  return out;
}

}  // namespace

Result<Bytes> SoftwareActivateCredential(EVP_PKEY* ek_private, ByteView ek_public,
                                         const Credential& credential, ByteView object_name) {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC ek, tpm::ParsePublic(ek_public));
  const std::optional<tpm::HashAlgorithm> found = tpm::HashAlgorithmById(ek.publicArea.nameAlg);
  if (!found) return MakeError(ErrorCode::kUnsupported, "the EK's name algorithm");
  const tpm::HashAlgorithm hash = *found;
  ATTEST_ASSIGN_OR_RETURN(
      auto secret, tpm::Unmarshal<TPM2B_ENCRYPTED_SECRET>(credential.encrypted_secret,
                                                          Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal,
                                                          "TPM2B_ENCRYPTED_SECRET"));
  const ByteView carried(secret.secret, secret.size);
  ATTEST_ASSIGN_OR_RETURN(Bytes seed,
                          ek.publicArea.type == TPM2_ALG_RSA
                              ? RecoverRsaSeed(ek_private, hash, carried)
                              : RecoverEccSeed(ek_private, ek.publicArea, hash, carried));
  ATTEST_ASSIGN_OR_RETURN(
      auto id_object,
      tpm::Unmarshal<TPM2B_ID_OBJECT>(credential.credential_blob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal,
                                      "TPM2B_ID_OBJECT"));
  // The blob: TPM2B_DIGEST integrity HMAC, then the encrypted credential.
  TPM2B_DIGEST integrity{};
  std::size_t offset = 0;
  if (Tss2_MU_TPM2B_DIGEST_Unmarshal(id_object.credential, id_object.size, &offset, &integrity) !=
      TSS2_RC_SUCCESS) {
    return MakeError(ErrorCode::kCorrupt, "ActivateCredential: the blob's integrity digest");
  }
  const Bytes encrypted(id_object.credential + offset, id_object.credential + id_object.size);
  Bytes hmac_key(hash.digest_size);
  ATTEST_RETURN_IF_ERROR(internal::KDFa(hash, seed, "INTEGRITY", {}, {}, hmac_key));
  Bytes hmac_input = encrypted;
  hmac_input.insert(hmac_input.end(), object_name.begin(), object_name.end());
  ATTEST_ASSIGN_OR_RETURN(Bytes expected, Hmac(hash, hmac_key, hmac_input));
  if (!ConstantTimeEquals(ByteView(integrity.buffer, integrity.size), expected)) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "ActivateCredential: the integrity HMAC does not match (another key's "
                     "name, or another EK)");
  }

  const std::size_t key_bytes = ek.publicArea.parameters.asymDetail.symmetric.keyBits.aes / 8;
  Bytes symmetric_key(key_bytes);
  ATTEST_RETURN_IF_ERROR(internal::KDFa(hash, seed, "STORAGE", object_name, {}, symmetric_key));
  EvpCipherPtr cipher(
      EVP_CIPHER_fetch(nullptr, key_bytes == 32 ? "AES-256-CFB" : "AES-128-CFB", nullptr));
  EvpCipherCtxPtr context(EVP_CIPHER_CTX_new());
  const std::array<std::uint8_t, 16> iv{};
  Bytes plain(encrypted.size() + 16);
  int written = 0;
  if (!cipher || !context ||
      EVP_DecryptInit_ex2(context.get(), cipher.get(), symmetric_key.data(), iv.data(), nullptr) !=
          1 ||
      EVP_DecryptUpdate(context.get(), plain.data(), &written, encrypted.data(),
                        static_cast<int>(encrypted.size())) != 1) {
    return OpensslError("ActivateCredential: AES-CFB");
  }
  plain.resize(static_cast<std::size_t>(written));
  ATTEST_ASSIGN_OR_RETURN(
      TPM2B_DIGEST recovered,
      tpm::Unmarshal<TPM2B_DIGEST>(plain, Tss2_MU_TPM2B_DIGEST_Unmarshal, "credential"));
  return Bytes(recovered.buffer, recovered.buffer + recovered.size);
}

}  // namespace attest::verifier::test
