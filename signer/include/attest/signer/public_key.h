// Public keys as the signer reads and writes them: NAME.pub (JSON,
// FORMAT.md §1.2) and SPKI PEM (RFC 8410, what `openssl pkey` prints), and
// a set of trusted keys (full public keys).
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "attest/ed25519.h"
#include "attest/error.h"

namespace attest::signer {

struct PublicKeyInfo {
  Ed25519PublicKey key{};
  std::string key_id;  // KeyIdOf(key)
};

PublicKeyInfo MakePublicKeyInfo(const Ed25519PublicKey& key);

// NAME.pub text: canonical JSON + "\n".
std::string EncodePublicKeyJson(const Ed25519PublicKey& key);
// "-----BEGIN PUBLIC KEY-----" SPKI PEM.
std::string EncodePublicKeyPem(const Ed25519PublicKey& key);

// Parses either form (PEM when the text starts with "-----BEGIN"). `name`
// names the source in errors (kCorrupt).
Result<PublicKeyInfo> ParsePublicKey(std::string_view text, std::string_view name);
Result<PublicKeyInfo> LoadPublicKey(const std::string& path);

// Keys a verifier accepts: a set of full Ed25519 public keys. A key id is
// only how a key is shown; two keys never share trust because their ids
// (64 bits) agree. Immutable after loading.
class TrustedKeys {
 public:
  void Add(const PublicKeyInfo& info) { keys_.insert(info.key); }
  bool Contains(const Ed25519PublicKey& key) const { return keys_.contains(key); }
  std::size_t size() const { return keys_.size(); }

 private:
  std::set<Ed25519PublicKey> keys_;
};

// A .pub/.pem file, or a directory whose *.pub and *.pem files (not
// recursive; other files ignored) are the trusted keys. An empty directory
// is an error (kNotFound): trusting nobody is never what was meant.
Result<TrustedKeys> LoadTrustedKeys(const std::string& file_or_directory);

}  // namespace attest::signer
