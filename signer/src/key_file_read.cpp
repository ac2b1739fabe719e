#include <algorithm>

#include <sodium.h>

#include "attest/file.h"
#include "attest/json_fields.h"
#include "attest/signer/key_file.h"

#include "key_file_crypto.h"

namespace attest::signer {
namespace {

using internal::EncryptionParams;

template <std::size_t N>
Status FixedBase64(const JsonFields& fields, const Json& object, std::string_view key,
                   std::string_view where, std::array<std::uint8_t, N>& out) {
  ATTEST_ASSIGN_OR_RETURN(Bytes bytes, fields.Base64(object, key, where));
  if (bytes.size() != N) {
    return fields.Invalid(where, "must be base64 of " + std::to_string(N) + " bytes, got " +
                                     std::to_string(bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return OkStatus();
}

Status ExpectString(const JsonFields& fields, const Json& object, std::string_view key,
                    std::string_view where, std::string_view expected) {
  ATTEST_ASSIGN_OR_RETURN(std::string value, fields.String(object, key, where));
  if (value != expected) {
    return fields.Invalid(where, "must be \"" + std::string(expected) +
                                     "\" (this build reads no "
                                     "other)");
  }
  return OkStatus();
}

Result<EncryptionParams> ParseEncryption(const JsonFields& fields, const Json& object) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(object, "encryption"));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(
      object, "encryption", {"kdf", "opslimit", "memlimit", "salt", "cipher", "nonce"}));
  ATTEST_RETURN_IF_ERROR(ExpectString(fields, object, "kdf", "encryption.kdf", internal::kKdfName));
  ATTEST_RETURN_IF_ERROR(
      ExpectString(fields, object, "cipher", "encryption.cipher", internal::kCipherName));
  EncryptionParams params;
  ATTEST_ASSIGN_OR_RETURN(params.opslimit,
                          fields.Unsigned(object, "opslimit", "encryption.opslimit"));
  ATTEST_ASSIGN_OR_RETURN(params.memlimit,
                          fields.Unsigned(object, "memlimit", "encryption.memlimit"));
  if (Status cost = internal::CheckCost(params.opslimit, params.memlimit); !cost.ok()) {
    return fields.Invalid("encryption", cost.error().message);
  }
  ATTEST_RETURN_IF_ERROR(FixedBase64(fields, object, "salt", "encryption.salt", params.salt));
  ATTEST_RETURN_IF_ERROR(FixedBase64(fields, object, "nonce", "encryption.nonce", params.nonce));
  return params;
}

Result<SecretBytes> DecryptSeed(const JsonFields& fields, const Json& document,
                                const Ed25519PublicKey& public_key, const EncryptionParams& params,
                                const PassphraseProvider& passphrase) {
  ATTEST_ASSIGN_OR_RETURN(Bytes ciphertext, fields.Base64(document, "secret_key", "secret_key"));
  if (ciphertext.size() != kEd25519SeedSize + internal::kTagSize) {
    return fields.Invalid("secret_key", "must be base64 of 48 bytes (encrypted seed and tag)");
  }
  ATTEST_ASSIGN_OR_RETURN(std::string header, internal::KeyFileAssociatedData(public_key, params));
  if (!passphrase) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(fields.name()) + " is encrypted and no passphrase was given");
  }
  ATTEST_ASSIGN_OR_RETURN(SecretBytes secret, passphrase());
  ATTEST_ASSIGN_OR_RETURN(SecretBytes derived, internal::DeriveKey(secret.view(), params));
  ATTEST_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Allocate(kEd25519SeedSize));
  unsigned long long seed_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          seed.data(), &seed_size, nullptr, ciphertext.data(), ciphertext.size(),
          reinterpret_cast<const std::uint8_t*>(header.data()), header.size(), params.nonce.data(),
          derived.data()) != 0) {
    return MakeError(
        ErrorCode::kPermissionDenied,
        "wrong passphrase for " + std::string(fields.name()) + " (or the file was altered)");
  }
  return seed;
}

// The seed of an unencrypted file, decoded straight into guarded memory; the
// parsed copy is wiped.
Result<SecretBytes> PlainSeed(const JsonFields& fields, Json& document) {
  ATTEST_ASSIGN_OR_RETURN(const Json* member, fields.Member(document, "secret_key", "secret_key"));
  if (!member->is_string()) return fields.Invalid("secret_key", "must be a string");
  auto& text = document["secret_key"].get_ref<std::string&>();
  ATTEST_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Allocate(kEd25519SeedSize + 3));
  std::size_t size = 0;
  int decoded = sodium_base642bin(seed.data(), seed.size(), text.data(), text.size(), nullptr,
                                  &size, nullptr, sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(text.data(), text.size());
  if (decoded != 0 || size != kEd25519SeedSize) {
    return fields.Invalid("secret_key", "must be base64 of the 32-byte seed");
  }
  seed.Truncate(size);
  return seed;
}

}  // namespace

Result<Ed25519PrivateKey> DecodePrivateKeyFile(ByteView text, std::string_view name,
                                               const PassphraseProvider& passphrase) {
  ATTEST_RETURN_IF_ERROR(EnsureSodium());
  auto parsed = ParseJsonStrict(AsText(text));
  if (!parsed.ok()) {
    // Only the position: the parser's own text quotes the input near the
    // error, which in an unencrypted key file is the seed.
    std::string_view message = parsed.error().message;
    message = message.substr(0, message.find(':'));
    return MakeError(ErrorCode::kCorrupt, std::string(name) + ": not a key file (" +
                                              std::string(message) + "; truncated?)");
  }
  Json& document = *parsed;
  JsonFields fields(name, ErrorCode::kCorrupt);
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(document, ""));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(
      document, "", {"version", "algorithm", "key_id", "public_key", "encryption", "secret_key"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version, fields.Unsigned(document, "version", "version"));
  if (version != 1) return fields.Invalid("version", "unsupported version (this build reads 1)");
  ATTEST_RETURN_IF_ERROR(ExpectString(fields, document, "algorithm", "algorithm", "ed25519"));
  Ed25519PublicKey public_key{};
  ATTEST_RETURN_IF_ERROR(FixedBase64(fields, document, "public_key", "public_key", public_key));
  ATTEST_ASSIGN_OR_RETURN(std::string key_id, fields.String(document, "key_id", "key_id"));
  if (key_id != KeyIdOf(public_key)) {
    return fields.Invalid("key_id", "is not the key id of public_key (the file was altered)");
  }
  ATTEST_ASSIGN_OR_RETURN(const Json* encryption,
                          fields.Member(document, "encryption", "encryption"));
  std::optional<SecretBytes> seed;
  if (encryption->is_null()) {
    ATTEST_ASSIGN_OR_RETURN(seed, PlainSeed(fields, document));
  } else {
    ATTEST_ASSIGN_OR_RETURN(EncryptionParams params, ParseEncryption(fields, *encryption));
    ATTEST_ASSIGN_OR_RETURN(seed, DecryptSeed(fields, document, public_key, params, passphrase));
  }
  ATTEST_ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::FromSeed(seed->view()));
  if (key.public_key() != public_key) {
    return fields.Invalid("public_key", "does not belong to the secret key (the file was altered)");
  }
  return key;
}

Result<Ed25519PrivateKey> LoadPrivateKey(const std::string& path,
                                         const PassphraseProvider& passphrase) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes text, ReadSecretFile(path, kMaxKeyFileBytes));
  return DecodePrivateKeyFile(text.view(), path, passphrase);
}

}  // namespace attest::signer
