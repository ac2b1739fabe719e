// What several signer commands share: where the passphrase comes from,
// loading keys and envelopes, and writing envelope files.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "attest/cli.h"
#include "attest/ed25519.h"
#include "attest/error.h"
#include "attest/flags.h"
#include "attest/secret.h"
#include "attest/signer/envelope.h"
#include "attest/signer/key_file.h"

namespace attest::signer::cli {

// The flags that choose a passphrase source; there is deliberately no flag
// that carries the passphrase itself.
inline const FlagSpec kPassphraseFileFlag{
    "passphrase-file", "FILE",
    "read the passphrase from FILE (mode 0600; one trailing newline "
    "is dropped)"};
inline const FlagSpec kPassphraseEnvFlag{
    "passphrase-env", "VAR",
    "read the passphrase from environment variable VAR (its name, "
    "not the passphrase)"};

// Checks that at most one source is named.
Status CheckPassphraseFlags(const ParsedFlags& flags);

// From --passphrase-file, the variable --passphrase-env names, or else a
// terminal prompt (asked twice when `confirm`).
Result<SecretBytes> ObtainPassphrase(const ParsedFlags& flags, std::string_view prompt,
                                     bool confirm);

// Loads --key, asking for the passphrase only if the file is encrypted.
Result<Ed25519PrivateKey> LoadSigningKey(const ParsedFlags& flags);

// Missing flags are usage errors naming the flag.
Status RequireFlags(const ParsedFlags& flags, std::initializer_list<const char*> names);

Result<Purpose> PurposeFlag(const ParsedFlags& flags, const std::string& name);

Result<Envelope> LoadEnvelope(const std::string& path);

// Writes the envelope to `path`: never over an existing file unless `force`.
Status WriteEnvelope(const std::string& path, const Envelope& envelope, bool force);

// Exit 0 for a valid verdict, 1 otherwise.
int VerdictExitCode(bool valid);

}  // namespace attest::signer::cli
