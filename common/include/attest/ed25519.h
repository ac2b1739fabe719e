// Ed25519 keys and signatures (libsodium), and the key id every component
// shows for a public key.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/secret.h"

namespace attest {

inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;
inline constexpr std::size_t kEd25519SeedSize = 32;

using Ed25519PublicKey = std::array<std::uint8_t, kEd25519PublicKeySize>;
using Ed25519Signature = std::array<std::uint8_t, kEd25519SignatureSize>;

// A private key in guarded memory. Move-only; thread-compatible.
class Ed25519PrivateKey {
 public:
  static Result<Ed25519PrivateKey> Generate();
  // `seed` is the 32-byte RFC 8032 private key.
  static Result<Ed25519PrivateKey> FromSeed(ByteView seed);

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The RFC 8032 private key; for writing key files only.
  ByteView seed() const { return {secret_.data(), kEd25519SeedSize}; }
  Ed25519Signature Sign(ByteView message) const;

 private:
  Ed25519PrivateKey(SecretBytes secret, const Ed25519PublicKey& public_key)
      : secret_(std::move(secret)), public_key_(public_key) {}
  SecretBytes secret_;  // libsodium's 64-byte form: seed || public key
  Ed25519PublicKey public_key_;
};

Result<Ed25519PublicKey> Ed25519PublicKeyFromBytes(ByteView bytes);

// Strict RFC 8032 verification (libsodium rejects non-canonical encodings
// and small-order keys).
bool Ed25519Verify(const Ed25519PublicKey& key, ByteView message, ByteView signature);

// The DER SubjectPublicKeyInfo (RFC 8410) of an Ed25519 key.
Bytes Ed25519SubjectPublicKeyInfo(const Ed25519PublicKey& key);

// The short, stable id shown wherever a key is named: the first 16 hex digits
// of SHA-256 over the key's DER SubjectPublicKeyInfo, so an auditor can
// recompute it with `openssl pkey -pubin -outform DER | sha256sum`.
std::string KeyIdOf(const Ed25519PublicKey& key);

}  // namespace attest
