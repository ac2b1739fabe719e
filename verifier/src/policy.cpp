#include "attest/verifier/policy.h"

#include <algorithm>
#include <string>

#include "attest/encoding.h"
#include "attest/json_fields.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/evidence.h"

namespace attest::verifier {
namespace {

bool Selects(const tpm::PcrSelection& selection, std::uint16_t bank, std::uint32_t pcr) {
  for (const tpm::PcrBankSelection& selected : selection.banks) {
    if (selected.hash_algorithm == bank) {
      return std::ranges::find(selected.indexes, pcr) != selected.indexes.end();
    }
  }
  return false;
}

Result<Sha256Digest> DigestAt(const JsonFields& fields, const Json& value, const std::string& at) {
  Sha256Digest digest{};
  if (!value.is_string() || !DecodeLowercaseHex(value.get_ref<const std::string&>(), digest)) {
    return fields.Invalid(at, "must be 64 lowercase hex digits (a sha256 digest)");
  }
  return digest;
}

Result<std::set<Sha256Digest>> DigestSet(const JsonFields& fields, const Json& value,
                                         const std::string& where) {
  if (!value.is_array()) return fields.Invalid(where, "must be an array of sha256 hex digests");
  std::set<Sha256Digest> digests;
  for (std::size_t i = 0; i < value.size(); ++i) {
    ATTEST_ASSIGN_OR_RETURN(Sha256Digest digest,
                            DigestAt(fields, value[i], where + "[" + std::to_string(i) + "]"));
    digests.insert(digest);
  }
  return digests;
}

// boot.pcrs: {"sha256": {"0": ["hex", ...]}}; every PCR named must be in
// the selection, or the rule could never be checked.
Status ParseAllowedPcrValues(const JsonFields& fields, const Json& value, Policy& policy) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(value, "boot.pcrs"));
  for (const auto& [bank_name, indexes] : value.items()) {
    std::string where = "boot.pcrs." + bank_name;
    Result<tpm::HashAlgorithm> bank = tpm::HashAlgorithmByName(bank_name);
    if (!bank.ok()) return fields.Invalid(where, bank.error().message);
    ATTEST_RETURN_IF_ERROR(fields.RequireObject(indexes, where));
    for (const auto& [index_text, allowed] : indexes.items()) {
      std::string at = JsonPath(where, index_text);
      std::optional<std::uint32_t> index = ParsePcrIndexKey(index_text);
      if (!index) return fields.Invalid(at, "not a PCR index (0-23)");
      std::uint32_t pcr = *index;
      if (!Selects(policy.selection, bank->id, pcr)) {
        return fields.Invalid(at, "PCR is not in pcr_selection " + policy.selection.ToString());
      }
      if (!allowed.is_array() || allowed.empty()) {
        return fields.Invalid(at, "must be a non-empty array of allowed values");
      }
      std::vector<Bytes>& values = policy.boot.allowed_pcr_values[bank->id][pcr];
      for (std::size_t i = 0; i < allowed.size(); ++i) {
        Bytes digest(bank->digest_size);
        if (!allowed[i].is_string() ||
            !DecodeLowercaseHex(allowed[i].get_ref<const std::string&>(), digest)) {
          return fields.Invalid(
              at + "[" + std::to_string(i) + "]",
              "must be " + std::to_string(bank->digest_size * 2) + " lowercase hex digits");
        }
        values.push_back(std::move(digest));
      }
    }
  }
  return OkStatus();
}

bool SelectsInAnyBank(const tpm::PcrSelection& selection, std::uint32_t pcr) {
  return std::ranges::any_of(selection.banks, [pcr](const tpm::PcrBankSelection& bank) {
    return std::ranges::find(bank.indexes, pcr) != bank.indexes.end();
  });
}

// A rule over events reads only events the quote vouches for: without its
// PCR and bank in the selection it could never pass honestly, or would
// pass on claims nothing signed.
Status CheckBootRulesAreQuoted(const JsonFields& fields, const Policy& policy) {
  std::string selection = policy.selection.ToString();
  if (policy.boot.secure_boot_required && !SelectsInAnyBank(policy.selection, 7)) {
    return fields.Invalid("boot.secure_boot_required",
                          "needs PCR 7, where the Secure Boot state is measured, in pcr_selection "
                          "(" +
                              selection + ")");
  }
  if (policy.boot.allowed_boot_applications && (!Selects(policy.selection, TPM2_ALG_SHA256, 2) ||
                                                !Selects(policy.selection, TPM2_ALG_SHA256, 4))) {
    return fields.Invalid("boot.allowed_boot_applications",
                          "needs PCRs 2 and 4 in pcr_selection's sha256 bank (" + selection +
                              "): the allowed digests are sha256 digests of the images the "
                              "firmware measures there");
  }
  return OkStatus();
}

Status ParseBoot(const JsonFields& fields, const Json& boot, Policy& policy) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(boot, "boot"));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(
      boot, "boot", {"pcrs", "secure_boot_required", "allowed_boot_applications"}));
  if (const Json* pcrs = FindMember(boot, "pcrs")) {
    ATTEST_RETURN_IF_ERROR(ParseAllowedPcrValues(fields, *pcrs, policy));
  }
  if (FindMember(boot, "secure_boot_required") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(
        policy.boot.secure_boot_required,
        fields.Boolean(boot, "secure_boot_required", "boot.secure_boot_required"));
  }
  if (const Json* apps = FindMember(boot, "allowed_boot_applications")) {
    ATTEST_ASSIGN_OR_RETURN(policy.boot.allowed_boot_applications,
                            DigestSet(fields, *apps, "boot.allowed_boot_applications"));
  }
  return CheckBootRulesAreQuoted(fields, policy);
}

// PCRs 0-7 are the firmware's: a runtime PCR there is left out of the boot
// log's replay, so every boot rule over it would fail. PCRs 17-22 reset to
// all ones and only localities above 0 may extend some of them: a runtime
// log, which replays from zero, can never match. PCRs 16 and 23 are
// resettable from software (DESIGN §2).
Status CheckRuntimePcr(const JsonFields& fields, const RuntimePolicy& runtime) {
  std::uint32_t pcr = runtime.pcr;
  if (pcr <= 7) {
    return fields.Invalid("runtime.pcr", "PCR " + std::to_string(pcr) +
                                             " holds the firmware's measurements (0-7), which "
                                             "the boot log must explain; use 15");
  }
  if (pcr >= 17 && pcr <= 22) {
    return fields.Invalid("runtime.pcr", "PCR " + std::to_string(pcr) +
                                             " is a DRTM PCR (17-22): it resets to all ones and "
                                             "cannot hold a runtime log; use 15");
  }
  if ((pcr == 16 || pcr == 23) && !runtime.allow_resettable_pcr) {
    return fields.Invalid("runtime.pcr", "PCR " + std::to_string(pcr) +
                                             " can be reset from software, so a root attacker "
                                             "could replay a clean log; use 15 (or set "
                                             "runtime.allow_resettable_pcr)");
  }
  return OkStatus();
}

Status ParseRuntime(const JsonFields& fields, const Json& runtime, Policy& policy) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(runtime, "runtime"));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(
      runtime, "runtime",
      {"pcr", "allow_resettable_pcr", "required_paths", "allowed_digests", "firmware_values"}));
  if (FindMember(runtime, "allow_resettable_pcr") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(
        policy.runtime.allow_resettable_pcr,
        fields.Boolean(runtime, "allow_resettable_pcr", "runtime.allow_resettable_pcr"));
  }
  if (FindMember(runtime, "pcr") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(std::uint64_t pcr, fields.Unsigned(runtime, "pcr", "runtime.pcr"));
    if (pcr >= tpm::kPcrCount) return fields.Invalid("runtime.pcr", "must be 0..23");
    policy.runtime.pcr = static_cast<std::uint32_t>(pcr);
  }
  ATTEST_RETURN_IF_ERROR(CheckRuntimePcr(fields, policy.runtime));
  if (!Selects(policy.selection, TPM2_ALG_SHA256, policy.runtime.pcr)) {
    return fields.Invalid("runtime.pcr", "PCR " + std::to_string(policy.runtime.pcr) +
                                             " must be in pcr_selection's sha256 bank");
  }
  if (const Json* paths = FindMember(runtime, "required_paths")) {
    if (!paths->is_array()) return fields.Invalid("runtime.required_paths", "must be an array");
    for (std::size_t i = 0; i < paths->size(); ++i) {
      const Json& path = (*paths)[i];
      std::string at = "runtime.required_paths[" + std::to_string(i) + "]";
      if (!path.is_string() || path.get_ref<const std::string&>().empty() ||
          path.get_ref<const std::string&>().front() != '/') {
        return fields.Invalid(at, "must be an absolute path");
      }
      policy.runtime.required_paths.push_back(path.get<std::string>());
    }
  }
  if (const Json* digests = FindMember(runtime, "allowed_digests")) {
    ATTEST_ASSIGN_OR_RETURN(policy.runtime.allowed_digests,
                            DigestSet(fields, *digests, "runtime.allowed_digests"));
  }
  if (const Json* values = FindMember(runtime, "firmware_values")) {
    ATTEST_ASSIGN_OR_RETURN(policy.runtime.firmware_values,
                            DigestSet(fields, *values, "runtime.firmware_values"));
  }
  return OkStatus();
}

Status ParseSettings(const JsonFields& fields, const Json& root, Policy& policy) {
  if (const Json* certificates = FindMember(root, "certificates")) {
    ATTEST_RETURN_IF_ERROR(fields.RequireObject(*certificates, "certificates"));
    ATTEST_RETURN_IF_ERROR(
        fields.OnlyMembers(*certificates, "certificates", {"lifetime_seconds", "trust_domain"}));
    if (FindMember(*certificates, "lifetime_seconds") != nullptr) {
      ATTEST_ASSIGN_OR_RETURN(
          policy.certificate_lifetime_seconds,
          fields.Unsigned(*certificates, "lifetime_seconds", "certificates.lifetime_seconds"));
    }
    if (FindMember(*certificates, "trust_domain") != nullptr) {
      ATTEST_ASSIGN_OR_RETURN(policy.trust_domain, fields.String(*certificates, "trust_domain",
                                                                 "certificates.trust_domain"));
    }
  }
  if (const Json* attestation = FindMember(root, "attestation")) {
    ATTEST_RETURN_IF_ERROR(fields.RequireObject(*attestation, "attestation"));
    ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(*attestation, "attestation",
                                              {"interval_seconds", "nonce_lifetime_seconds"}));
    if (FindMember(*attestation, "interval_seconds") != nullptr) {
      ATTEST_ASSIGN_OR_RETURN(
          policy.attestation_interval_seconds,
          fields.Unsigned(*attestation, "interval_seconds", "attestation.interval_seconds"));
    }
    if (FindMember(*attestation, "nonce_lifetime_seconds") != nullptr) {
      ATTEST_ASSIGN_OR_RETURN(policy.nonce_lifetime_seconds,
                              fields.Unsigned(*attestation, "nonce_lifetime_seconds",
                                              "attestation.nonce_lifetime_seconds"));
    }
  }
  if (policy.certificate_lifetime_seconds == 0 || policy.attestation_interval_seconds == 0 ||
      policy.nonce_lifetime_seconds == 0) {
    return fields.Invalid("document", "lifetimes and intervals must be positive");
  }
  return OkStatus();
}

Json DigestArray(const std::set<Sha256Digest>& digests) {
  Json array = Json::array();
  for (const Sha256Digest& digest : digests) array.push_back(HexEncode(AsBytes(digest)));
  return array;
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view text, std::string_view name) {
  JsonFields fields(name, ErrorCode::kCorrupt);  // a stored document (FORMAT.md)
  Result<Json> parsed = ParseJsonStrict(text);
  if (!parsed.ok()) return fields.Invalid("JSON", parsed.error().message);
  const Json& root = *parsed;
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(root, ""));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(root, "",
                                            {"version", "serial", "name", "pcr_selection", "boot",
                                             "runtime", "certificates", "attestation"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version, fields.Unsigned(root, "version", "version"));
  if (version != kPolicyVersion) {
    return MakeError(ErrorCode::kUnsupported, std::string(name) + ": policy version " +
                                                  std::to_string(version) +
                                                  " is not supported (this verifier reads 1)");
  }
  Policy policy;
  if (FindMember(root, "name") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(policy.name, fields.String(root, "name", "name"));
  }
  if (FindMember(root, "serial") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(policy.serial, fields.Unsigned(root, "serial", "serial"));
  }
  ATTEST_ASSIGN_OR_RETURN(std::string selection,
                          fields.String(root, "pcr_selection", "pcr_selection"));
  Result<tpm::PcrSelection> parsed_selection = tpm::ParsePcrSelection(selection);
  if (!parsed_selection.ok()) {
    return fields.Invalid("pcr_selection", parsed_selection.error().message);
  }
  policy.selection = std::move(parsed_selection).value();
  if (const Json* boot = FindMember(root, "boot")) {
    ATTEST_RETURN_IF_ERROR(ParseBoot(fields, *boot, policy));
  }
  const Json empty_runtime = Json::object();
  const Json* runtime = FindMember(root, "runtime");
  ATTEST_RETURN_IF_ERROR(ParseRuntime(fields, runtime ? *runtime : empty_runtime, policy));
  ATTEST_RETURN_IF_ERROR(ParseSettings(fields, root, policy));
  return policy;
}

Json PolicyToJson(const Policy& policy) {
  Json pcrs = Json::object();
  for (const auto& [bank, indexes] : policy.boot.allowed_pcr_values) {
    Json& bank_json = pcrs[tpm::AlgorithmName(bank)] = Json::object();
    for (const auto& [pcr, values] : indexes) {
      Json& allowed = bank_json[std::to_string(pcr)] = Json::array();
      for (const Bytes& value : values) allowed.push_back(HexEncode(value));
    }
  }
  Json boot = {{"pcrs", pcrs}, {"secure_boot_required", policy.boot.secure_boot_required}};
  if (policy.boot.allowed_boot_applications) {
    boot["allowed_boot_applications"] = DigestArray(*policy.boot.allowed_boot_applications);
  }
  Json json = {
      {"version", kPolicyVersion},
      {"pcr_selection", policy.selection.ToString()},
      {"boot", boot},
      {"runtime",
       {{"pcr", policy.runtime.pcr},
        {"required_paths", policy.runtime.required_paths},
        {"allowed_digests", DigestArray(policy.runtime.allowed_digests)}}},
      {"certificates",
       {{"lifetime_seconds", policy.certificate_lifetime_seconds},
        {"trust_domain", policy.trust_domain}}},
      {"attestation",
       {{"interval_seconds", policy.attestation_interval_seconds},
        {"nonce_lifetime_seconds", policy.nonce_lifetime_seconds}}},
  };
  if (!policy.runtime.firmware_values.empty()) {
    json["runtime"]["firmware_values"] = DigestArray(policy.runtime.firmware_values);
  }
  if (policy.runtime.allow_resettable_pcr) json["runtime"]["allow_resettable_pcr"] = true;
  if (!policy.name.empty()) json["name"] = policy.name;
  if (policy.serial != 0) json["serial"] = policy.serial;
  return json;
}

}  // namespace attest::verifier
