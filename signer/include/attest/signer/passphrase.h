// Where a passphrase comes from, short of a terminal prompt (a CLI concern):
// a file or an environment variable the user names. Never argv.
#pragma once

#include <string>

#include "attest/error.h"
#include "attest/secret.h"

namespace attest::signer {

// The file's contents without one trailing "\n" (or "\r\n"). Refuses a file
// group or others may access (like ssh does for keys), and an empty one.
Result<SecretBytes> ReadPassphraseFile(const std::string& path);

// The value of environment variable `name`; kNotFound when unset,
// kInvalidArgument when empty.
Result<SecretBytes> PassphraseFromEnv(const std::string& name);

// A passphrase given as bytes (tests, or a CLI's own prompt).
Result<SecretBytes> PassphraseFromBytes(ByteView bytes);

}  // namespace attest::signer
