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

std::optional<std::uint32_t> ParsePcrIndexKey(std::string_view text) {
  if (text.empty() || text.size() > 2 || (text.size() == 2 && text[0] == '0')) return std::nullopt;
  std::uint32_t index = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (index >= tpm::kPcrCount) return std::nullopt;
  return index;
}

Result<tpm::PcrValues> PcrValuesFromJson(const Json& value, std::string_view field) {
  if (!value.is_object()) {
    return MakeError(ErrorCode::kCorrupt, std::string(field) + ": must be an object");
  }
  tpm::PcrValues values;
  for (const auto& [bank_name, indexes] : value.items()) {
    std::string where = JsonPath(field, bank_name);
    Result<tpm::HashAlgorithm> bank = tpm::HashAlgorithmByName(bank_name);
    if (!bank.ok()) return MakeError(ErrorCode::kCorrupt, where + ": " + bank.error().message);
    if (!indexes.is_object()) {
      return MakeError(ErrorCode::kCorrupt, where + ": must be an object");
    }
    std::map<std::uint32_t, Bytes>& bank_values = values[bank->id];
    for (const auto& [index_text, hex] : indexes.items()) {
      std::string at = JsonPath(where, index_text);
      std::optional<std::uint32_t> index = ParsePcrIndexKey(index_text);
      if (!index) {
        at += ": \"" + index_text + "\" is not a PCR index (0-23)";
        return MakeError(ErrorCode::kCorrupt, std::move(at));
      }
      Bytes digest(bank->digest_size);
      if (!hex.is_string() || !DecodeLowercaseHex(hex.get_ref<const std::string&>(), digest)) {
        return MakeError(ErrorCode::kCorrupt,
                         at + ": must be " + std::to_string(bank->digest_size * 2) +
                             " lowercase hex digits (a " + std::string(bank->name) + " value)");
      }
      bank_values[*index] = std::move(digest);
    }
  }
  return values;
}

Json PcrValuesToJson(const tpm::PcrValues& values) {
  Json json = Json::object();
  for (const auto& [bank, indexes] : values) {
    Json& out = json[tpm::AlgorithmName(bank)] = Json::object();
    for (const auto& [index, value] : indexes) out[std::to_string(index)] = HexEncode(value);
  }
  return json;
}

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

Result<Json> EvidenceToJson(const Evidence& evidence) {
  Json json = {{"nonce", HexEncode(evidence.nonce)},
               {"attest", Base64Encode(evidence.attest)},
               {"signature", Base64Encode(evidence.signature)},
               {"pcrs", PcrValuesToJson(evidence.pcrs)}};
  if (evidence.boot_log) json["boot_log"] = Base64Encode(*evidence.boot_log);
  if (evidence.runtime_log) {
    ATTEST_ASSIGN_OR_RETURN(
        std::string text,
        runtime::SerializeRuntimeLog(*evidence.runtime_log, runtime::kMaxRuntimeLogBytes,
                                     evidence.runtime_log_start));
    json["runtime_log"] = Json::parse(text);
    if (evidence.runtime_log_start > 0) json["runtime_log_start"] = evidence.runtime_log_start;
  }
  if (evidence.csr) json["csr"] = *evidence.csr;
  if (evidence.key_certification) {
    json["key_certification"] = {
        {"public", Base64Encode(evidence.key_certification->key_public)},
        {"attest", Base64Encode(evidence.key_certification->attest)},
        {"signature", Base64Encode(evidence.key_certification->signature)}};
  }
  return json;
}

}  // namespace attest::verifier
