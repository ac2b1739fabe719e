#include "cli/cli_files.h"

#include "attest/file.h"

namespace attest::verifier::cli {

Result<Bytes> LoadBytes(const std::string& path, std::size_t max_bytes) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, max_bytes));
  return ToBytes(text);
}

Result<Evidence> LoadEvidence(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxEvidenceBytes));
  return ParseEvidence(text, path);
}

Result<AttestationKey> LoadAttestationKey(const std::string& path, AttestationKeyOptions options) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, std::size_t{64} * 1024));
  Result<AttestationKey> key = ParseAttestationKey(AsBytes(text), options);
  if (!key.ok()) {
    return key.error().WithContext(path +
                                   " (expected the AK's TPM2B_PUBLIC as `tpm2_createak -u` "
                                   "writes it)");
  }
  return key;
}

Result<Policy> LoadPolicy(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, std::size_t{16} * 1024 * 1024));
  return ParsePolicy(text, path);
}

}  // namespace attest::verifier::cli
