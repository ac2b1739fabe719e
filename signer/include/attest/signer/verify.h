// Verifying envelopes against files, directories and trusted keys. The
// verdict functions are pure (digests in, verdict out); the *File and
// *Directory wrappers add the hashing.
#pragma once

#include <string>
#include <string_view>

#include "attest/error.h"
#include "attest/signer/envelope.h"
#include "attest/signer/manifest.h"
#include "attest/signer/public_key.h"

namespace attest::signer {

// Stable reasons: a CLI prints them and maps kValid to exit 0, others to 1.
enum class VerifyReason {
  kValid,
  kFileChanged,   // the file's digest or size differs from the envelope's
  kUntrustedKey,  // the signing key is not among the trusted keys
  kBadSignature,  // the signature does not verify
  kWrongPurpose,  // signed for another purpose than the one expected
};

std::string_view VerifyReasonName(VerifyReason reason);  // "valid", "file_changed", ...

struct VerifyResult {
  VerifyReason reason = VerifyReason::kValid;
  std::string detail;  // for humans
  bool valid() const { return reason == VerifyReason::kValid; }
};

// Checks, in order: trusted key (the full public key), signature, purpose,
// then digest and size. The purpose is required: a signature is only ever
// valid for the use it was made for.
VerifyResult VerifyEnvelope(const Envelope& envelope, const FileDigest& actual,
                            const TrustedKeys& trusted, Purpose expected);

// Errors (bad input: unreadable file, a directory envelope) are not verdicts.
Result<VerifyResult> VerifyFile(const std::string& path, const Envelope& envelope,
                                const TrustedKeys& trusted, Purpose expected);

}  // namespace attest::signer
