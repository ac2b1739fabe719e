#include <algorithm>
#include <cstring>

#include <sodium.h>
#include <unistd.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/signer/key_file.h"

#include "key_file_crypto.h"

namespace attest::signer {
namespace {

using internal::EncryptionParams;

// The header's canonical JSON ends with this member (the last in key order);
// "secret_key" sorts just before it.
constexpr std::string_view kLastMember = "\"version\":1}";
constexpr std::string_view kSecretMember = "\"secret_key\":\"";

// base64 of `bytes` in guarded memory (it may be the seed).
Result<SecretBytes> SecretBase64(ByteView bytes) {
  std::size_t size = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  ATTEST_ASSIGN_OR_RETURN(SecretBytes out, SecretBytes::Allocate(size));
  sodium_bin2base64(reinterpret_cast<char*>(out.data()), size, bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.Truncate(size - 1);  // the terminating NUL
  return out;
}

// Header with "secret_key":"<secret_base64>" spliced in, and a newline.
Result<SecretBytes> Assemble(std::string_view header, ByteView secret_base64) {
  if (!header.ends_with(kLastMember)) {
    return MakeError(ErrorCode::kInternal, "key file header does not end with version");
  }
  std::string_view head = header.substr(0, header.size() - kLastMember.size());
  std::size_t size =
      head.size() + kSecretMember.size() + secret_base64.size() + 2 + kLastMember.size() + 1;
  ATTEST_ASSIGN_OR_RETURN(SecretBytes out, SecretBytes::Allocate(size));
  std::uint8_t* at = out.data();
  auto put = [&at](ByteView bytes) { at = std::copy(bytes.begin(), bytes.end(), at); };
  put(AsBytes(head));
  put(AsBytes(kSecretMember));
  put(secret_base64);
  put(AsBytes("\","));
  put(AsBytes(kLastMember));
  put(AsBytes("\n"));
  return out;
}

Result<SecretBytes> EncryptSeed(const Ed25519PrivateKey& key, ByteView passphrase,
                                const EncryptionParams& params, std::string_view header) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes derived, internal::DeriveKey(passphrase, params));
  Bytes ciphertext(kEd25519SeedSize + internal::kTagSize);
  unsigned long long ciphertext_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      ciphertext.data(), &ciphertext_size, key.seed().data(), key.seed().size(),
      reinterpret_cast<const std::uint8_t*>(header.data()), header.size(), nullptr,
      params.nonce.data(), derived.data());
  ciphertext.resize(ciphertext_size);
  return SecretBase64(ciphertext);
}

}  // namespace

Result<SecretBytes> EncodePrivateKeyFile(const Ed25519PrivateKey& key, ByteView passphrase,
                                         const KeyGenOptions& options) {
  ATTEST_RETURN_IF_ERROR(EnsureSodium());
  if (!options.encrypt) {
    ATTEST_ASSIGN_OR_RETURN(std::string header,
                            CanonicalJson(internal::KeyFileHeader(key.public_key(), {})));
    ATTEST_ASSIGN_OR_RETURN(SecretBytes seed_base64, SecretBase64(key.seed()));
    return Assemble(header, seed_base64.view());
  }
  if (passphrase.empty()) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "an encrypted key needs a non-empty passphrase (or choose an unencrypted key)");
  }
  ATTEST_RETURN_IF_ERROR(internal::CheckCost(options.opslimit, options.memlimit));
  EncryptionParams params;
  params.opslimit = options.opslimit;
  params.memlimit = options.memlimit;
  randombytes_buf(params.salt.data(), params.salt.size());
  randombytes_buf(params.nonce.data(), params.nonce.size());
  ATTEST_ASSIGN_OR_RETURN(std::string header,
                          internal::KeyFileAssociatedData(key.public_key(), params));
  ATTEST_ASSIGN_OR_RETURN(SecretBytes ciphertext_base64,
                          EncryptSeed(key, passphrase, params, header));
  return Assemble(header, ciphertext_base64.view());
}

Result<PublicKeyInfo> WriteKeyFiles(const std::string& base_path, const Ed25519PrivateKey& key,
                                    ByteView passphrase, const KeyGenOptions& options) {
  const std::string key_path = base_path + ".key";
  const std::string pub_path = base_path + ".pub";
  const std::string pem_path = base_path + ".pem";
  for (const std::string* path : {&key_path, &pub_path, &pem_path}) {
    if (path == &pem_path && !options.write_pem) continue;
    if (PathExists(*path)) {
      return MakeError(ErrorCode::kAlreadyExists,
                       *path +
                           " already exists; refusing to overwrite a key (choose another "
                           "name or move the old one away)");
    }
  }
  ATTEST_ASSIGN_OR_RETURN(SecretBytes text, EncodePrivateKeyFile(key, passphrase, options));
  ATTEST_RETURN_IF_ERROR(CreateSecretFile(key_path, text.view()));
  auto undo = [&](const Error& error) {
    ::unlink(key_path.c_str());
    ::unlink(pub_path.c_str());
    return error;
  };
  Status pub = WriteFileAtomically(pub_path, EncodePublicKeyJson(key.public_key()), 0644);
  if (!pub.ok()) return undo(pub.error());
  if (options.write_pem) {
    Status pem = WriteFileAtomically(pem_path, EncodePublicKeyPem(key.public_key()), 0644);
    if (!pem.ok()) return undo(pem.error());
  }
  return MakePublicKeyInfo(key.public_key());
}

Result<PublicKeyInfo> WriteNewKey(const std::string& base_path, ByteView passphrase,
                                  const KeyGenOptions& options) {
  ATTEST_ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  return WriteKeyFiles(base_path, key, passphrase, options);
}

}  // namespace attest::signer
