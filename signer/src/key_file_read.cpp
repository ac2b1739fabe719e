// Reading NAME.key (FORMAT.md §1.1). The file's text stays in the guarded
// buffer ReadSecretFile filled: key_file_parse.h reads it in place, public
// members are copied out, and the secret_key member is decoded (or
// decrypted) straight into another guarded buffer.
#include <algorithm>
#include <initializer_list>

#include <sodium.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/json_fields.h"
#include "attest/signer/key_file.h"

#include "key_file_crypto.h"
#include "key_file_parse.h"

namespace attest::signer {
namespace {

using internal::EncryptionParams;
using internal::KeyFileValue;

// Typed access to the members of one object of a key file; errors (kCorrupt)
// name the file and the member's place ("encryption.salt").
class Members {
 public:
  Members(const JsonFields& fields, const KeyFileValue& object, std::string_view where)
      : fields_(fields), object_(object), where_(where) {}

  Status Only(std::initializer_list<std::string_view> allowed) const {
    for (const internal::KeyFileMember& member : object_.members) {
      if (std::find(allowed.begin(), allowed.end(), member.name) == allowed.end()) {
        return fields_.Invalid(where_.empty() ? "document" : where_,
                               "unknown field \"" + member.name + "\"");
      }
    }
    return OkStatus();
  }
  Result<const KeyFileValue*> Find(std::string_view key) const {
    for (const internal::KeyFileMember& member : object_.members) {
      if (member.name == key) return &member.value;
    }
    return fields_.Invalid(Path(key), "missing");
  }
  // The raw characters of a string member (a view into the file's text).
  Result<ByteView> Text(std::string_view key) const {
    ATTEST_ASSIGN_OR_RETURN(const KeyFileValue* value, Find(key));
    if (value->type != KeyFileValue::Type::kString)
      return fields_.Invalid(Path(key), "must be a string");
    return value->text;
  }
  Result<std::uint64_t> Unsigned(std::string_view key) const {
    ATTEST_ASSIGN_OR_RETURN(const KeyFileValue* value, Find(key));
    if (value->type != KeyFileValue::Type::kInteger) {
      return fields_.Invalid(Path(key), "must be a non-negative integer");
    }
    return value->integer;
  }
  Status Expect(std::string_view key, std::string_view expected) const {
    ATTEST_ASSIGN_OR_RETURN(ByteView text, Text(key));
    if (AsText(text) != expected) {
      return fields_.Invalid(
          Path(key), "must be \"" + std::string(expected) + "\" (this build reads no other)");
    }
    return OkStatus();
  }
  // Base64 of exactly N bytes, for members that are not secret.
  template <std::size_t N>
  Status PublicBase64(std::string_view key, std::array<std::uint8_t, N>& out) const {
    ATTEST_ASSIGN_OR_RETURN(Bytes bytes, PublicBase64(key));
    if (bytes.size() != N) {
      return fields_.Invalid(Path(key), "must be base64 of " + std::to_string(N) + " bytes, got " +
                                            std::to_string(bytes.size()));
    }
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return OkStatus();
  }
  Result<Bytes> PublicBase64(std::string_view key) const {
    ATTEST_ASSIGN_OR_RETURN(ByteView text, Text(key));
    auto bytes = Base64Decode(AsText(text));
    if (!bytes.ok()) return fields_.Invalid(Path(key), bytes.error().message);
    return std::move(bytes).value();
  }
  std::string Path(std::string_view key) const { return JsonPath(where_, key); }
  const JsonFields& fields() const { return fields_; }

 private:
  const JsonFields& fields_;
  const KeyFileValue& object_;
  std::string_view where_;
};

Result<EncryptionParams> ParseEncryption(const JsonFields& fields, const KeyFileValue& object) {
  if (object.type != KeyFileValue::Type::kObject) {
    return fields.Invalid("encryption", "must be null or an object");
  }
  Members members(fields, object, "encryption");
  ATTEST_RETURN_IF_ERROR(members.Only({"kdf", "opslimit", "memlimit", "salt", "cipher", "nonce"}));
  ATTEST_RETURN_IF_ERROR(members.Expect("kdf", internal::kKdfName));
  ATTEST_RETURN_IF_ERROR(members.Expect("cipher", internal::kCipherName));
  EncryptionParams params;
  ATTEST_ASSIGN_OR_RETURN(params.opslimit, members.Unsigned("opslimit"));
  ATTEST_ASSIGN_OR_RETURN(params.memlimit, members.Unsigned("memlimit"));
  if (Status cost = internal::CheckCost(params.opslimit, params.memlimit); !cost.ok()) {
    return fields.Invalid("encryption", cost.error().message);
  }
  ATTEST_RETURN_IF_ERROR(members.PublicBase64("salt", params.salt));
  ATTEST_RETURN_IF_ERROR(members.PublicBase64("nonce", params.nonce));
  return params;
}

Result<SecretBytes> DecryptSeed(const Members& document, const Ed25519PublicKey& public_key,
                                const EncryptionParams& params,
                                const PassphraseProvider& passphrase) {
  const JsonFields& fields = document.fields();
  // Ciphertext: not secret without the passphrase.
  ATTEST_ASSIGN_OR_RETURN(Bytes ciphertext, document.PublicBase64("secret_key"));
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

// The seed of an unencrypted file, decoded from the guarded text straight
// into guarded memory.
Result<SecretBytes> PlainSeed(const Members& document) {
  ATTEST_ASSIGN_OR_RETURN(ByteView text, document.Text("secret_key"));
  ATTEST_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Allocate(kEd25519SeedSize + 3));
  std::size_t size = 0;
  int decoded =
      sodium_base642bin(seed.data(), seed.size(), reinterpret_cast<const char*>(text.data()),
                        text.size(), nullptr, &size, nullptr, sodium_base64_VARIANT_ORIGINAL);
  if (decoded != 0 || size != kEd25519SeedSize) {
    return document.fields().Invalid("secret_key", "must be base64 of the 32-byte seed");
  }
  seed.Truncate(size);
  return seed;
}

}  // namespace

Result<Ed25519PrivateKey> DecodePrivateKeyFile(ByteView text, std::string_view name,
                                               const PassphraseProvider& passphrase) {
  ATTEST_RETURN_IF_ERROR(EnsureSodium());
  ATTEST_ASSIGN_OR_RETURN(KeyFileValue parsed, internal::ParseKeyFileJson(text, name));
  JsonFields fields(name, ErrorCode::kCorrupt);
  Members document(fields, parsed, "");
  ATTEST_RETURN_IF_ERROR(
      document.Only({"version", "algorithm", "key_id", "public_key", "encryption", "secret_key"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version, document.Unsigned("version"));
  if (version != 1) return fields.Invalid("version", "unsupported version (this build reads 1)");
  ATTEST_RETURN_IF_ERROR(document.Expect("algorithm", "ed25519"));
  Ed25519PublicKey public_key{};
  ATTEST_RETURN_IF_ERROR(document.PublicBase64("public_key", public_key));
  ATTEST_ASSIGN_OR_RETURN(ByteView key_id, document.Text("key_id"));
  if (AsText(key_id) != KeyIdOf(public_key)) {
    return fields.Invalid("key_id", "is not the key id of public_key (the file was altered)");
  }
  ATTEST_ASSIGN_OR_RETURN(const KeyFileValue* encryption, document.Find("encryption"));
  std::optional<SecretBytes> seed;
  if (encryption->type == KeyFileValue::Type::kNull) {
    ATTEST_ASSIGN_OR_RETURN(seed, PlainSeed(document));
  } else {
    ATTEST_ASSIGN_OR_RETURN(EncryptionParams params, ParseEncryption(fields, *encryption));
    ATTEST_ASSIGN_OR_RETURN(seed, DecryptSeed(document, public_key, params, passphrase));
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
