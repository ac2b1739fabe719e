// What key_file_read.cpp and key_file_write.cpp share: the encryption
// parameters, the authenticated header (FORMAT.md §1.1) and the KDF.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "attest/bytes.h"
#include "attest/ed25519.h"
#include "attest/error.h"
#include "attest/json.h"
#include "attest/secret.h"

namespace attest::signer::internal {

inline constexpr std::string_view kKdfName = "argon2id13";
inline constexpr std::string_view kCipherName = "xchacha20poly1305-ietf";
inline constexpr std::size_t kSaltSize = 16;   // crypto_pwhash_SALTBYTES
inline constexpr std::size_t kNonceSize = 24;  // crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
inline constexpr std::size_t kTagSize = 16;    // crypto_aead_xchacha20poly1305_ietf_ABYTES

struct EncryptionParams {
  std::uint64_t opslimit = 0;
  std::uint64_t memlimit = 0;
  std::array<std::uint8_t, kSaltSize> salt{};
  std::array<std::uint8_t, kNonceSize> nonce{};
};

// Every member of the key file but "secret_key". Its canonical JSON is the
// AEAD's associated data, so no header byte can change unnoticed.
Json KeyFileHeader(const Ed25519PublicKey& key, const std::optional<EncryptionParams>& params);
Result<std::string> KeyFileAssociatedData(const Ed25519PublicKey& key,
                                          const EncryptionParams& params);

// Checks the Argon2id cost against libsodium's minimum and our maximum.
Status CheckCost(std::uint64_t opslimit, std::uint64_t memlimit);

// Argon2id(passphrase, salt, opslimit, memlimit) -> 32-byte AEAD key.
Result<SecretBytes> DeriveKey(ByteView passphrase, const EncryptionParams& params);

}  // namespace attest::signer::internal
