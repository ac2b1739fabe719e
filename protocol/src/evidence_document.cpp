#include "attest/protocol/evidence_document.h"

#include <map>
#include <string>

#include "attest/encoding.h"
#include "attest/json_fields.h"
#include "attest/tpm/algorithms.h"

namespace attest::protocol {

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

}  // namespace attest::protocol
