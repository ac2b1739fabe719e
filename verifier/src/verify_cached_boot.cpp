// Incremental evidence (docs/protocol.md §6): a quote without its boot log
// is decided on the facts a verified log of the same boot established, but
// only when nothing could differ; any doubt answers BOOT_LOG_REQUIRED.
#include <string>

#include "attest/encoding.h"
#include "attest/json_fields.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/ima_log.h"

#include "verify_internal.h"

namespace attest::verifier {
namespace internal {
namespace {

void RequireFullBootLog(Verification& verification, const std::string& why) {
  verification.Fail(MakeReason(ReasonCode::kBootLogRequired,
                               "the evidence has no boot log, and " + why + ": send it in full"));
}

// The quoted PCRs a boot log explains: all but the runtime PCR and PCR 10.
tpm::PcrValues QuotedBootPcrs(const Verification& verification, std::uint32_t runtime_pcr) {
  tpm::PcrValues boot;
  for (const auto& [bank, values] : verification.quoted) {
    for (const auto& [pcr, value] : values) {
      if (pcr != runtime_pcr && pcr != kImaPcr) boot[bank][pcr] = value;
    }
  }
  return boot;
}

}  // namespace

void CheckCachedBoot(Verification& verification) {
  const VerifiedBootState* cached = verification.input.cached_boot;
  if (cached == nullptr) {
    RequireFullBootLog(verification, "no verified log for this boot is at hand");
    return;
  }
  const std::optional<QuoteInfo>& quote = verification.verdict.quote;
  if (!quote) {
    RequireFullBootLog(verification, "the quote does not parse, so its boot cannot be told");
    return;
  }
  if (quote->clock.reset_count != cached->reset_count ||
      quote->clock.restart_count != cached->restart_count) {
    RequireFullBootLog(verification, "the verified log held is of another boot (resetCount " +
                                         std::to_string(cached->reset_count) + ", restartCount " +
                                         std::to_string(cached->restart_count) +
                                         "; the quote says " +
                                         std::to_string(quote->clock.reset_count) + ", " +
                                         std::to_string(quote->clock.restart_count) + ")");
    return;
  }
  const std::uint32_t runtime_pcr = verification.input.policy.runtime.pcr;
  if (cached->runtime_pcr != runtime_pcr) {
    RequireFullBootLog(verification, "the verified log held was read for another runtime PCR");
    return;
  }
  // Equal maps: the same quoted boot PCRs, each with the same value.
  if (QuotedBootPcrs(verification, runtime_pcr) != cached->boot_pcrs) {
    RequireFullBootLog(
        verification,
        "the quoted boot PCRs are not those the verified log held for this boot replayed to");
    return;
  }
  Verdict& verdict = verification.verdict;
  verdict.boot_from_cache = true;
  verdict.boot_replay = cached->boot_pcrs;
  verdict.boot_facts = cached->facts;
  for (const UnboundEvent& unbound : cached->facts.unbound) {
    verification.Fail(MakeEventReason(ReasonCode::kBootEventUnbound, unbound.index, unbound.pcr,
                                      unbound.detail + "; it establishes nothing"));
  }
  verification.runtime_pcr_start = {cached->runtime_pcr_firmware_value,
                                    cached->boot_log_extends_runtime_pcr};
  verdict.verified_boot = *cached;
}

}  // namespace internal

bool CachedBootFitsSelection(const VerifiedBootState& state, const tpm::PcrSelection& selection,
                             std::uint32_t runtime_pcr) {
  if (state.runtime_pcr != runtime_pcr) return false;
  std::size_t selected = 0;
  for (const tpm::PcrBankSelection& bank : selection.banks) {
    auto held = state.boot_pcrs.find(bank.hash_algorithm);
    for (std::uint32_t pcr : bank.indexes) {
      if (pcr == runtime_pcr || pcr == kImaPcr) continue;
      if (held == state.boot_pcrs.end() || !held->second.contains(pcr)) return false;
      ++selected;
    }
  }
  std::size_t kept = 0;
  for (const auto& [bank, values] : state.boot_pcrs) kept += values.size();
  return kept == selected;
}

namespace {

Json OptionalBool(const std::optional<bool>& value) { return value ? Json(*value) : Json(nullptr); }

Result<std::optional<bool>> ReadOptionalBool(const JsonFields& fields, const Json& object,
                                             std::string_view key) {
  const Json* member = FindMember(object, key);
  if (member == nullptr) return fields.Invalid(key, "missing");
  if (member->is_null()) return std::optional<bool>();
  if (!member->is_boolean()) return fields.Invalid(key, "must be a boolean or null");
  return std::optional<bool>(member->get<bool>());
}

Result<Sha256Digest> ReadBootDigest(const JsonFields& fields, const Json& object,
                                    std::string_view key, std::string_view where) {
  Sha256Digest digest{};
  ATTEST_RETURN_IF_ERROR(fields.FixedHex(object, key, where, digest));
  return digest;
}

Json FactsToJson(const BootFacts& facts) {
  Json json = {{"secure_boot", OptionalBool(facts.secure_boot)},
               {"secure_boot_detail", facts.secure_boot_detail},
               {"platform_key_present", OptionalBool(facts.platform_key_present)},
               {"key_exchange_key_present", OptionalBool(facts.key_exchange_key_present)},
               {"db_present", OptionalBool(facts.db_present)},
               {"dbx_present", OptionalBool(facts.dbx_present)},
               {"value_only_quirk", facts.uefi_variable_value_only_quirk}};
  Json unbound = Json::array();
  for (const UnboundEvent& event : facts.unbound) {
    unbound.push_back({{"index", event.index}, {"pcr", event.pcr}, {"detail", event.detail}});
  }
  json["unbound"] = unbound;
  if (facts.boot_applications) {
    Json applications = Json::array();
    for (const BootApplication& app : *facts.boot_applications) {
      applications.push_back({{"index", app.index},
                              {"pcr", app.pcr},
                              {"digest", HexEncode(AsBytes(app.digest))},
                              {"type", app.type},
                              {"device_path", app.device_path}});
    }
    json["boot_applications"] = applications;
  } else {
    json["boot_applications"] = nullptr;
  }
  return json;
}

Result<BootFacts> FactsFromJson(const JsonFields& fields, const Json& json) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(json, "facts"));
  BootFacts facts;
  ATTEST_ASSIGN_OR_RETURN(facts.secure_boot, ReadOptionalBool(fields, json, "secure_boot"));
  ATTEST_ASSIGN_OR_RETURN(facts.secure_boot_detail,
                          fields.String(json, "secure_boot_detail", "facts"));
  ATTEST_ASSIGN_OR_RETURN(facts.platform_key_present,
                          ReadOptionalBool(fields, json, "platform_key_present"));
  ATTEST_ASSIGN_OR_RETURN(facts.key_exchange_key_present,
                          ReadOptionalBool(fields, json, "key_exchange_key_present"));
  ATTEST_ASSIGN_OR_RETURN(facts.db_present, ReadOptionalBool(fields, json, "db_present"));
  ATTEST_ASSIGN_OR_RETURN(facts.dbx_present, ReadOptionalBool(fields, json, "dbx_present"));
  ATTEST_ASSIGN_OR_RETURN(facts.uefi_variable_value_only_quirk,
                          fields.Boolean(json, "value_only_quirk", "facts"));
  ATTEST_ASSIGN_OR_RETURN(const Json* unbound, fields.Member(json, "unbound", "facts"));
  if (!unbound->is_array()) return fields.Invalid("facts.unbound", "must be an array");
  for (const Json& item : *unbound) {
    UnboundEvent event;
    ATTEST_ASSIGN_OR_RETURN(std::uint64_t index, fields.Unsigned(item, "index", "facts.unbound"));
    ATTEST_ASSIGN_OR_RETURN(std::uint64_t pcr, fields.Unsigned(item, "pcr", "facts.unbound"));
    ATTEST_ASSIGN_OR_RETURN(event.detail, fields.String(item, "detail", "facts.unbound"));
    event.index = static_cast<std::size_t>(index);
    event.pcr = static_cast<std::uint32_t>(pcr);
    facts.unbound.push_back(std::move(event));
  }
  ATTEST_ASSIGN_OR_RETURN(const Json* applications,
                          fields.Member(json, "boot_applications", "facts"));
  if (!applications->is_null()) {
    if (!applications->is_array()) {
      return fields.Invalid("facts.boot_applications", "must be an array or null");
    }
    std::vector<BootApplication> list;
    for (const Json& item : *applications) {
      BootApplication app;
      const std::string_view where = "facts.boot_applications";
      ATTEST_ASSIGN_OR_RETURN(std::uint64_t index, fields.Unsigned(item, "index", where));
      ATTEST_ASSIGN_OR_RETURN(std::uint64_t pcr, fields.Unsigned(item, "pcr", where));
      ATTEST_ASSIGN_OR_RETURN(std::uint64_t type, fields.Unsigned(item, "type", where));
      ATTEST_ASSIGN_OR_RETURN(app.digest, ReadBootDigest(fields, item, "digest", where));
      ATTEST_ASSIGN_OR_RETURN(app.device_path, fields.String(item, "device_path", where));
      app.index = static_cast<std::size_t>(index);
      app.pcr = static_cast<std::uint32_t>(pcr);
      app.type = static_cast<std::uint32_t>(type);
      list.push_back(std::move(app));
    }
    facts.boot_applications = std::move(list);
  }
  return facts;
}

}  // namespace

Json VerifiedBootStateToJson(const VerifiedBootState& state) {
  return {{"reset_count", state.reset_count},
          {"restart_count", state.restart_count},
          {"runtime_pcr", state.runtime_pcr},
          {"boot_pcrs", PcrValuesToJson(state.boot_pcrs)},
          {"facts", FactsToJson(state.facts)},
          {"runtime_pcr_firmware_value", HexEncode(AsBytes(state.runtime_pcr_firmware_value))},
          {"boot_log_extends_runtime_pcr", state.boot_log_extends_runtime_pcr}};
}

Result<VerifiedBootState> VerifiedBootStateFromJson(const Json& json) {
  JsonFields fields("verified boot state", ErrorCode::kCorrupt);
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(json, ""));
  VerifiedBootState state;
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t reset, fields.Unsigned(json, "reset_count", ""));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t restart, fields.Unsigned(json, "restart_count", ""));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t runtime_pcr, fields.Unsigned(json, "runtime_pcr", ""));
  if (reset > UINT32_MAX || restart > UINT32_MAX || runtime_pcr > 23) {
    return fields.Invalid("reset_count", "counter or PCR out of range");
  }
  state.reset_count = static_cast<std::uint32_t>(reset);
  state.restart_count = static_cast<std::uint32_t>(restart);
  state.runtime_pcr = static_cast<std::uint32_t>(runtime_pcr);
  ATTEST_ASSIGN_OR_RETURN(const Json* pcrs, fields.Member(json, "boot_pcrs", ""));
  ATTEST_ASSIGN_OR_RETURN(state.boot_pcrs, PcrValuesFromJson(*pcrs, "boot_pcrs"));
  ATTEST_ASSIGN_OR_RETURN(const Json* facts, fields.Member(json, "facts", ""));
  ATTEST_ASSIGN_OR_RETURN(state.facts, FactsFromJson(fields, *facts));
  ATTEST_ASSIGN_OR_RETURN(state.runtime_pcr_firmware_value,
                          ReadBootDigest(fields, json, "runtime_pcr_firmware_value", ""));
  ATTEST_ASSIGN_OR_RETURN(state.boot_log_extends_runtime_pcr,
                          fields.Boolean(json, "boot_log_extends_runtime_pcr", ""));
  return state;
}

}  // namespace attest::verifier
