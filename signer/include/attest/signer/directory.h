// Signing a whole tree as one envelope over its manifest (FORMAT.md §3),
// and reporting what was added, removed or changed since.
#pragma once

#include <optional>
#include <string>

#include "attest/clock.h"
#include "attest/ed25519.h"
#include "attest/error.h"
#include "attest/signer/envelope.h"
#include "attest/signer/manifest.h"
#include "attest/signer/public_key.h"
#include "attest/signer/verify.h"

namespace attest::signer {

// Signs the manifest of `directory` as one envelope (path = directory).
Result<Envelope> SignDirectory(const std::string& directory, const Ed25519PrivateKey& key,
                               Purpose purpose, std::optional<std::string> comment, TimePoint time);

struct DirectoryVerifyResult {
  VerifyResult verdict;  // kFileChanged when `diff` is not empty
  ManifestDiff diff;
};

Result<DirectoryVerifyResult> VerifyDirectory(const std::string& directory,
                                              const Envelope& envelope, const TrustedKeys& trusted,
                                              Purpose expected);

}  // namespace attest::signer
