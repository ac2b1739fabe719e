// Helpers for the signer tests: fast Argon2id settings and passphrase
// providers.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "attest/signer/key_file.h"
#include "attest/signer/passphrase.h"

namespace attest::signer::test {

// libsodium's minimum cost: the format is the same, the tests are fast.
inline KeyGenOptions FastOptions(bool encrypt = true) {
  KeyGenOptions options;
  options.encrypt = encrypt;
  options.opslimit = kOpslimitMin;
  options.memlimit = kMemlimitMin;
  return options;
}

inline PassphraseProvider Passphrase(std::string text) {
  return [text] { return PassphraseFromBytes(AsBytes(text)); };
}

// A provider that fails the test if asked.
inline PassphraseProvider NoPassphrase() {
  return []() -> Result<SecretBytes> {
    ADD_FAILURE() << "passphrase requested for an unencrypted key";
    return MakeError(ErrorCode::kInternal, "unexpected passphrase request");
  };
}

}  // namespace attest::signer::test
