// Incremental evidence, the runtime half (docs/protocol.md §6): a runtime
// log sent from the verifier's cursor replays from the runtime PCR value an
// earlier AK-signed quote of the same boot covered, and the entries before
// the cursor are judged again, from the verifier's own copy, under the
// policy in force. Any doubt answers RUNTIME_LOG_REQUIRED.
#include <string>

#include "attest/encoding.h"
#include "attest/json_fields.h"
#include "attest/verifier/verified_runtime.h"

#include "verify_internal.h"

namespace attest::verifier {
namespace internal {
namespace {

void RequireFullRuntimeLog(Verification& verification, const std::string& why) {
  const std::uint32_t pcr = verification.input.policy.runtime.pcr;
  verification.Fail(
      MakePcrReason(ReasonCode::kRuntimeLogRequired, pcr,
                    "the runtime log starts after entry " +
                        std::to_string(verification.input.evidence.runtime_log_start) + ", and " +
                        why + ": send it in full"));
  // Nothing of the runtime log is verified: a full resend is judged.
  verification.runtime_unjudged = true;
}

// What a policy decides on, and the detail it shows: the entry as it is
// cached.
runtime::RuntimeEntry Kept(const runtime::RuntimeEntry& entry) {
  runtime::RuntimeEntry kept;
  kept.pcr = entry.pcr;
  kept.path = entry.path;
  kept.kind = entry.kind;
  kept.sha256 = entry.sha256;
  kept.detail = entry.detail;
  return kept;
}

}  // namespace

void KeepVerifiedRuntime(Verification& verification, std::span<const runtime::RuntimeEntry> before,
                         std::span<const runtime::RuntimeEntry> sent,
                         const Sha256Digest& pcr_value) {
  const std::optional<QuoteInfo>& quote = verification.verdict.quote;
  if (!quote || !verification.runtime_pcr_start) return;
  if (before.size() + sent.size() > kMaxCachedRuntimeEntries) return;
  VerifiedRuntimeState state;
  state.reset_count = quote->clock.reset_count;
  state.restart_count = quote->clock.restart_count;
  state.runtime_pcr = verification.input.policy.runtime.pcr;
  state.firmware_value = verification.runtime_pcr_start->first;
  state.boot_log_extends_runtime_pcr = verification.runtime_pcr_start->second;
  state.entries.reserve(before.size() + sent.size());
  state.entries.assign(before.begin(), before.end());
  for (const runtime::RuntimeEntry& entry : sent) state.entries.push_back(Kept(entry));
  if (RuntimeStateTextBytes(state.entries) > kMaxCachedRuntimeTextBytes) return;
  state.pcr_value = pcr_value;
  verification.verdict.verified_runtime = std::move(state);
}

void CheckRuntimeCursor(Verification& verification, const Bytes& quoted) {
  const VerifiedRuntimeState* cached = verification.input.cached_runtime;
  const std::uint64_t start = verification.input.evidence.runtime_log_start;
  if (cached == nullptr) {
    RequireFullRuntimeLog(verification, "the verifier holds no verified runtime log of this node");
    return;
  }
  const std::optional<QuoteInfo>& quote = verification.verdict.quote;
  if (!quote) {
    RequireFullRuntimeLog(verification, "the quote does not parse, so its boot cannot be told");
    return;
  }
  // Only a quote of the same boot vouches for the held value: the PCR has
  // not been reset since (resetCount and restartCount count every reset).
  if (quote->clock.reset_count != cached->reset_count ||
      quote->clock.restart_count != cached->restart_count) {
    RequireFullRuntimeLog(verification,
                          "the verified runtime log held is of another boot (resetCount " +
                              std::to_string(cached->reset_count) + ", restartCount " +
                              std::to_string(cached->restart_count) + "; the quote says " +
                              std::to_string(quote->clock.reset_count) + ", " +
                              std::to_string(quote->clock.restart_count) + ")");
    return;
  }
  if (cached->runtime_pcr != verification.input.policy.runtime.pcr) {
    RequireFullRuntimeLog(verification, "the verified runtime log held is of another runtime PCR");
    return;
  }
  if (cached->entries.size() != start) {
    RequireFullRuntimeLog(
        verification,
        "the verifier holds " + std::to_string(cached->entries.size()) + " verified entries");
    return;
  }
  if (!verification.runtime_pcr_start ||
      verification.runtime_pcr_start->first != cached->firmware_value ||
      verification.runtime_pcr_start->second != cached->boot_log_extends_runtime_pcr) {
    RequireFullRuntimeLog(
        verification,
        "the runtime PCR's firmware value is not the one the verified log held started from");
    return;
  }
  if (!verification.input.evidence.runtime_log) {
    RequireFullRuntimeLog(verification, "the evidence has no runtime log to continue from it");
    return;
  }
  const std::vector<runtime::RuntimeEntry>& sent = verification.input.evidence.runtime_log->entries;
  Sha256Digest replayed = runtime::Replay(sent, cached->pcr_value);
  if (Bytes(replayed.begin(), replayed.end()) != quoted) {
    // The held entries may not be the node's (or the node's may not be the
    // PCR's): only the whole log tells which.
    RequireFullRuntimeLog(verification, "its " + std::to_string(sent.size()) +
                                            " entries do not replay from the verified value " +
                                            HexEncode(AsBytes(cached->pcr_value)) +
                                            " to the quoted " + HexEncode(quoted));
    return;
  }
  verification.verdict.runtime_from_cursor = true;
  verification.runtime_before_cursor = cached->entries;
  KeepVerifiedRuntime(verification, cached->entries, sent, replayed);
}

}  // namespace internal

namespace {

Result<Sha256Digest> ReadRuntimeDigest(const JsonFields& fields, const Json& object,
                                       std::string_view key, std::string_view where) {
  Sha256Digest digest{};
  ATTEST_RETURN_IF_ERROR(fields.FixedHex(object, key, where, digest));
  return digest;
}

Json EntryToJson(const runtime::RuntimeEntry& entry) {
  Json json = {{"kind", runtime::RuntimeKindName(entry.kind)}, {"path", entry.path}};
  if (entry.kind == runtime::RuntimeKind::kFile) {
    json["sha256"] = HexEncode(AsBytes(entry.sha256));
  } else {
    json["detail"] = entry.detail;
  }
  return json;
}

Result<runtime::RuntimeEntry> EntryFromJson(const JsonFields& fields, const Json& json,
                                            std::uint32_t pcr) {
  const std::string_view where = "entries";
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(json, where));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(json, where, {"kind", "path", "sha256", "detail"}));
  runtime::RuntimeEntry entry;
  entry.pcr = pcr;
  ATTEST_ASSIGN_OR_RETURN(std::string kind, fields.String(json, "kind", where));
  std::optional<runtime::RuntimeKind> parsed = runtime::RuntimeKindFromName(kind);
  if (!parsed) return fields.Invalid(where, "unknown kind \"" + kind + "\"");
  entry.kind = *parsed;
  ATTEST_ASSIGN_OR_RETURN(entry.path, fields.String(json, "path", where));
  if (entry.path.empty() || entry.path.front() != '/') {
    return fields.Invalid(where, "a path must be absolute");
  }
  if (entry.kind == runtime::RuntimeKind::kFile) {
    ATTEST_ASSIGN_OR_RETURN(entry.sha256, ReadRuntimeDigest(fields, json, "sha256", where));
    ATTEST_RETURN_IF_ERROR(fields.Absent(json, "detail", where, "only for kinds other than file"));
  } else {
    ATTEST_ASSIGN_OR_RETURN(entry.detail, fields.String(json, "detail", where));
    ATTEST_RETURN_IF_ERROR(fields.Absent(json, "sha256", where, "only for kind file"));
  }
  return entry;
}

}  // namespace

std::size_t RuntimeStateTextBytes(const std::vector<runtime::RuntimeEntry>& entries) {
  std::size_t bytes = 0;
  for (const runtime::RuntimeEntry& entry : entries)
    bytes += entry.path.size() + entry.detail.size();
  return bytes;
}

Json VerifiedRuntimeStateToJson(const VerifiedRuntimeState& state) {
  Json entries = Json::array();
  for (const runtime::RuntimeEntry& entry : state.entries) entries.push_back(EntryToJson(entry));
  return {{"reset_count", state.reset_count},
          {"restart_count", state.restart_count},
          {"runtime_pcr", state.runtime_pcr},
          {"firmware_value", HexEncode(AsBytes(state.firmware_value))},
          {"boot_log_extends_runtime_pcr", state.boot_log_extends_runtime_pcr},
          {"entries", std::move(entries)},
          {"pcr_value", HexEncode(AsBytes(state.pcr_value))}};
}

Result<VerifiedRuntimeState> VerifiedRuntimeStateFromJson(const Json& json) {
  JsonFields fields("verified runtime state", ErrorCode::kCorrupt);
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(json, ""));
  ATTEST_RETURN_IF_ERROR(
      fields.OnlyMembers(json, "",
                         {"reset_count", "restart_count", "runtime_pcr", "firmware_value",
                          "boot_log_extends_runtime_pcr", "entries", "pcr_value"}));
  VerifiedRuntimeState state;
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t reset, fields.Unsigned(json, "reset_count", ""));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t restart, fields.Unsigned(json, "restart_count", ""));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t pcr, fields.Unsigned(json, "runtime_pcr", ""));
  if (reset > UINT32_MAX || restart > UINT32_MAX || pcr > runtime::kMaxRuntimePcr) {
    return fields.Invalid("reset_count", "counter or PCR out of range");
  }
  state.reset_count = static_cast<std::uint32_t>(reset);
  state.restart_count = static_cast<std::uint32_t>(restart);
  state.runtime_pcr = static_cast<std::uint32_t>(pcr);
  ATTEST_ASSIGN_OR_RETURN(state.firmware_value,
                          ReadRuntimeDigest(fields, json, "firmware_value", ""));
  ATTEST_ASSIGN_OR_RETURN(state.boot_log_extends_runtime_pcr,
                          fields.Boolean(json, "boot_log_extends_runtime_pcr", ""));
  ATTEST_ASSIGN_OR_RETURN(state.pcr_value, ReadRuntimeDigest(fields, json, "pcr_value", ""));
  ATTEST_ASSIGN_OR_RETURN(const Json* entries, fields.Member(json, "entries", ""));
  if (!entries->is_array()) return fields.Invalid("entries", "must be an array");
  if (entries->size() > kMaxCachedRuntimeEntries) {
    return fields.Invalid("entries", "more than " + std::to_string(kMaxCachedRuntimeEntries));
  }
  state.entries.reserve(entries->size());
  for (const Json& item : *entries) {
    ATTEST_ASSIGN_OR_RETURN(runtime::RuntimeEntry entry,
                            EntryFromJson(fields, item, state.runtime_pcr));
    state.entries.push_back(std::move(entry));
  }
  if (RuntimeStateTextBytes(state.entries) > kMaxCachedRuntimeTextBytes) {
    return fields.Invalid("entries", "paths and details over the size bound");
  }
  // The entries must be what the held value is made of: a state that is
  // not its own replay is no ground to judge on.
  if (runtime::Replay(state.entries, state.firmware_value) != state.pcr_value) {
    return fields.Invalid("pcr_value", "the entries do not replay to it from firmware_value");
  }
  return state;
}

}  // namespace attest::verifier
