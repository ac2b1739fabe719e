// Signer key files (FORMAT.md §1): NAME.key holds an Ed25519 seed, encrypted
// with a passphrase (Argon2id + XChaCha20-Poly1305, parameters in the file)
// or, for CI keys, in the clear; NAME.pub holds the public key. Secret bytes
// (seed, derived key, passphrase) live only in SecretBytes.
//
// Functions are thread-compatible; none prompts or logs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/ed25519.h"
#include "attest/error.h"
#include "attest/secret.h"
#include "attest/signer/public_key.h"

namespace attest::signer {

inline constexpr std::size_t kMaxKeyFileBytes = std::size_t{16} * 1024;

// How a new key file is protected. Tests lower the Argon2id cost to
// crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN; production keeps the defaults.
// (key_file_crypto.cpp checks these against libsodium's constants.)
inline constexpr std::uint64_t kOpslimitModerate = 3;                       // OPSLIMIT_MODERATE
inline constexpr std::uint64_t kMemlimitModerate = std::uint64_t{1} << 28;  // MEMLIMIT_MODERATE
inline constexpr std::uint64_t kOpslimitMin = 1;                            // OPSLIMIT_MIN
inline constexpr std::uint64_t kMemlimitMin = 8192;                         // MEMLIMIT_MIN

struct KeyGenOptions {
  bool encrypt = true;
  std::uint64_t opslimit = kOpslimitModerate;
  std::uint64_t memlimit = kMemlimitModerate;
  bool write_pem = false;  // also write NAME.pem (SPKI)
};

// Argon2id parameters a key file may name; beyond these a file is refused
// rather than allowed to make us burn CPU or memory.
inline constexpr std::uint64_t kMaxOpslimit = 64;
inline constexpr std::uint64_t kMaxMemlimit = std::uint64_t{4} << 30;

// The text of a NAME.key file (canonical JSON + "\n") for `key`, in guarded
// memory since an unencrypted file holds the seed. `passphrase` must be
// non-empty when options.encrypt, and is ignored otherwise.
Result<SecretBytes> EncodePrivateKeyFile(const Ed25519PrivateKey& key, ByteView passphrase,
                                         const KeyGenOptions& options);

// Asked for the passphrase only when the key file is encrypted.
using PassphraseProvider = std::function<Result<SecretBytes>()>;

// Parses and, if needed, decrypts a key file's text. `name` names the file
// in errors. Errors: kCorrupt naming the field for a malformed file;
// kPermissionDenied for a wrong passphrase or an altered file (the AEAD
// cannot tell the two apart); the provider's error if it fails.
Result<Ed25519PrivateKey> DecodePrivateKeyFile(ByteView text, std::string_view name,
                                               const PassphraseProvider& passphrase);

// Generates a key and writes `base_path`.key (0600, O_EXCL), `base_path`.pub
// (0644) and, if asked, `base_path`.pem. Refuses (kAlreadyExists) when any
// of them exists; leaves none behind on failure.
Result<PublicKeyInfo> WriteNewKey(const std::string& base_path, ByteView passphrase,
                                  const KeyGenOptions& options);
// The same for an existing key (tests, key import).
Result<PublicKeyInfo> WriteKeyFiles(const std::string& base_path, const Ed25519PrivateKey& key,
                                    ByteView passphrase, const KeyGenOptions& options);

// Reads NAME.key; refuses a file group or others may access.
Result<Ed25519PrivateKey> LoadPrivateKey(const std::string& path,
                                         const PassphraseProvider& passphrase);

}  // namespace attest::signer
