// Loading the verifier's input files, with errors that name the file.
#pragma once

#include <string>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/policy.h"

namespace attest::verifier::cli {

// Far larger than any real log, so a wrong path (a disk image, /dev/zero)
// fails fast instead of filling memory.
inline constexpr std::size_t kMaxLogFileBytes = std::size_t{256} * 1024 * 1024;

Result<Evidence> LoadEvidence(const std::string& path);
Result<AttestationKey> LoadAttestationKey(const std::string& path, AttestationKeyOptions options);
Result<Policy> LoadPolicy(const std::string& path);
Result<Bytes> LoadBytes(const std::string& path, std::size_t max_bytes);

}  // namespace attest::verifier::cli
