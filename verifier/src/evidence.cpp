#include "attest/verifier/evidence.h"

#include <limits>
#include <string>

#include "attest/encoding.h"
#include "attest/json_fields.h"
#include "attest/tpm/algorithms.h"

namespace attest::verifier {
namespace {

// TPM2B_NONCE holds at most a SHA-512 digest.
constexpr std::size_t kMaxNonceBytes = 64;

Result<KeyCertification> ParseKeyCertification(const JsonFields& fields, const Json& value) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(value, "key_certification"));
  ATTEST_RETURN_IF_ERROR(
      fields.OnlyMembers(value, "key_certification", {"public", "attest", "signature"}));
  KeyCertification certification;
  ATTEST_ASSIGN_OR_RETURN(certification.key_public,
                          fields.Base64(value, "public", "key_certification.public"));
  ATTEST_ASSIGN_OR_RETURN(certification.attest,
                          fields.Base64(value, "attest", "key_certification.attest"));
  ATTEST_ASSIGN_OR_RETURN(certification.signature,
                          fields.Base64(value, "signature", "key_certification.signature"));
  return certification;
}

}  // namespace

Result<Evidence> ParseEvidence(std::string_view text, std::string_view name) {
  return ParseUntrustedEvidence(text, name, std::numeric_limits<std::size_t>::max());
}

Result<Evidence> ParseUntrustedEvidence(std::string_view text, std::string_view name,
                                        std::size_t reread_limit) {
  if (std::optional<Evidence> fast = internal::ParseEvidenceFastPath(text)) return *std::move(fast);
  if (text.size() > reread_limit) {
    return MakeError(ErrorCode::kCorrupt,
                     std::string(name) +
                         ": not an evidence document (verifier/FORMAT.md §1); over " +
                         std::to_string(reread_limit) +
                         " bytes the member at fault is not named: check it with `verifier check`");
  }
  return internal::ParseEvidenceStrictPath(text, name);
}

// The reader of record: every rule, and the message that names the member.
Result<Evidence> internal::ParseEvidenceStrictPath(std::string_view text, std::string_view name) {
  JsonFields fields(name, ErrorCode::kCorrupt);  // a received document (FORMAT.md)
  if (text.size() > kMaxEvidenceBytes) {
    return fields.Invalid("document",
                          "larger than the " + std::to_string(kMaxEvidenceBytes) + "-byte limit");
  }
  Result<Json> parsed = ParseJsonStrict(text);
  if (!parsed.ok()) return fields.Invalid("JSON", parsed.error().message);
  const Json& root = *parsed;
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(root, ""));
  ATTEST_RETURN_IF_ERROR(
      fields.OnlyMembers(root, "",
                         {"nonce", "attest", "signature", "pcrs", "boot_log", "runtime_log",
                          "runtime_log_start", "csr", "key_certification"}));
  Evidence evidence;
  ATTEST_ASSIGN_OR_RETURN(evidence.nonce, fields.Hex(root, "nonce", "nonce", kMaxNonceBytes));
  ATTEST_ASSIGN_OR_RETURN(evidence.attest, fields.Base64(root, "attest", "attest"));
  ATTEST_ASSIGN_OR_RETURN(evidence.signature, fields.Base64(root, "signature", "signature"));
  ATTEST_ASSIGN_OR_RETURN(const Json* pcrs, fields.Member(root, "pcrs", "pcrs"));
  Result<tpm::PcrValues> values = PcrValuesFromJson(*pcrs, "pcrs");
  if (!values.ok()) return fields.Invalid("pcrs", values.error().message);
  evidence.pcrs = std::move(values).value();
  if (FindMember(root, "boot_log") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(evidence.boot_log, fields.Base64(root, "boot_log", "boot_log"));
  }
  if (FindMember(root, "runtime_log_start") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(evidence.runtime_log_start,
                            fields.Unsigned(root, "runtime_log_start", "runtime_log_start"));
    if (FindMember(root, "runtime_log") == nullptr) {
      return fields.Invalid("runtime_log_start", "is only allowed with a runtime_log");
    }
  }
  if (const Json* runtime = FindMember(root, "runtime_log"); runtime != nullptr) {
    Result<runtime::RuntimeLog> log =
        runtime::ParseRuntimeLogJson(*runtime, "runtime_log", evidence.runtime_log_start);
    if (!log.ok()) return fields.Invalid("runtime_log", log.error().message);
    evidence.runtime_log = std::move(log).value();
  }
  if (FindMember(root, "csr") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(evidence.csr, fields.String(root, "csr", "csr"));
  }
  if (const Json* certification = FindMember(root, "key_certification"); certification) {
    ATTEST_ASSIGN_OR_RETURN(evidence.key_certification,
                            ParseKeyCertification(fields, *certification));
  }
  return evidence;
}

}  // namespace attest::verifier
