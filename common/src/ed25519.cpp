#include "attest/ed25519.h"

#include <algorithm>

#include <sodium.h>

#include "attest/encoding.h"
#include "attest/sha256.h"

namespace attest {
namespace {

// RFC 8410 §4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) }.
constexpr std::array<std::uint8_t, 12> kSpkiPrefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                      0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

}  // namespace

Result<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Allocate(kEd25519SeedSize));
  randombytes_buf(seed.data(), seed.size());
  return FromSeed(seed.view());
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteView seed) {
  if (seed.size() != kEd25519SeedSize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "an Ed25519 private key is 32 bytes, got " + std::to_string(seed.size()));
  }
  ATTEST_ASSIGN_OR_RETURN(SecretBytes secret, SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES));
  Ed25519PublicKey public_key{};
  if (crypto_sign_seed_keypair(public_key.data(), secret.data(), seed.data()) != 0) {
    return MakeError(ErrorCode::kCrypto, "cannot derive an Ed25519 key pair from the seed");
  }
  return Ed25519PrivateKey(std::move(secret), public_key);
}

Ed25519Signature Ed25519PrivateKey::Sign(ByteView message) const {
  Ed25519Signature signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret_.data());
  return signature;
}

Result<Ed25519PublicKey> Ed25519PublicKeyFromBytes(ByteView bytes) {
  if (bytes.size() != kEd25519PublicKeySize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "an Ed25519 public key is 32 bytes, got " + std::to_string(bytes.size()));
  }
  Ed25519PublicKey key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

bool Ed25519Verify(const Ed25519PublicKey& key, ByteView message, ByteView signature) {
  if (signature.size() != kEd25519SignatureSize || !EnsureSodium().ok()) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

Bytes Ed25519SubjectPublicKeyInfo(const Ed25519PublicKey& key) {
  Bytes der(kSpkiPrefix.size() + key.size());
  std::copy(kSpkiPrefix.begin(), kSpkiPrefix.end(), der.begin());
  std::copy(key.begin(), key.end(), der.begin() + kSpkiPrefix.size());
  return der;
}

std::string KeyIdOf(const Ed25519PublicKey& key) {
  Sha256Digest digest = Sha256Of(Ed25519SubjectPublicKeyInfo(key));
  return HexEncode(ByteView(digest.data(), 8));
}

}  // namespace attest
