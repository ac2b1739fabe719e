#include "key_file_crypto.h"

#include <sodium.h>

#include "attest/encoding.h"
#include "attest/signer/key_file.h"

namespace attest::signer::internal {

static_assert(kSaltSize == crypto_pwhash_SALTBYTES);
static_assert(kNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);
static_assert(kOpslimitModerate == crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
static_assert(kMemlimitModerate == crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
static_assert(kOpslimitMin == crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(kMemlimitMin == crypto_pwhash_argon2id_MEMLIMIT_MIN);

Json KeyFileHeader(const Ed25519PublicKey& key, const std::optional<EncryptionParams>& params) {
  Json encryption = nullptr;
  if (params) {
    encryption = {{"kdf", std::string(kKdfName)},       {"opslimit", params->opslimit},
                  {"memlimit", params->memlimit},       {"salt", Base64Encode(params->salt)},
                  {"cipher", std::string(kCipherName)}, {"nonce", Base64Encode(params->nonce)}};
  }
  return {{"version", 1},
          {"algorithm", "ed25519"},
          {"key_id", KeyIdOf(key)},
          {"public_key", Base64Encode(key)},
          {"encryption", encryption}};
}

Result<std::string> KeyFileAssociatedData(const Ed25519PublicKey& key,
                                          const EncryptionParams& params) {
  return CanonicalJson(KeyFileHeader(key, params));
}

Status CheckCost(std::uint64_t opslimit, std::uint64_t memlimit) {
  if (opslimit < kOpslimitMin || opslimit > kMaxOpslimit) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "opslimit must be between " + std::to_string(kOpslimitMin) + " and " +
                         std::to_string(kMaxOpslimit) + ", got " + std::to_string(opslimit));
  }
  if (memlimit < kMemlimitMin || memlimit > kMaxMemlimit) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "memlimit must be between " + std::to_string(kMemlimitMin) + " and " +
                         std::to_string(kMaxMemlimit) + " bytes, got " + std::to_string(memlimit));
  }
  return OkStatus();
}

Result<SecretBytes> DeriveKey(ByteView passphrase, const EncryptionParams& params) {
  ATTEST_RETURN_IF_ERROR(CheckCost(params.opslimit, params.memlimit));
  ATTEST_ASSIGN_OR_RETURN(SecretBytes key,
                          SecretBytes::Allocate(crypto_aead_xchacha20poly1305_ietf_KEYBYTES));
  if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()),
                    passphrase.size(), params.salt.data(), params.opslimit,
                    static_cast<std::size_t>(params.memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return MakeError(ErrorCode::kCrypto, "Argon2id failed (out of memory for memlimit " +
                                             std::to_string(params.memlimit) + " bytes?)");
  }
  return key;
}

}  // namespace attest::signer::internal
