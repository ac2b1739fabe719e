#include "incremental_evidence.h"

#include <algorithm>
#include <mutex>

namespace attest::service::api {
namespace {

using verifier::ReasonCode;

bool HasReason(const verifier::Verdict& verdict, ReasonCode code) {
  return std::ranges::any_of(
      verdict.reasons, [code](const verifier::Reason& reason) { return reason.code == code; });
}

// Failures a missing boot log may explain: boot rules with no facts to
// read, a runtime PCR replayed without its firmware start.
bool ExplainedByMissingBootLog(ReasonCode code) {
  switch (code) {
    case ReasonCode::kBootLogRequired:
    case ReasonCode::kBootPolicyViolation:
    case ReasonCode::kRuntimeLogReplayMismatch:
    case ReasonCode::kBootLogRuntimePcr:
      return true;
    default:
      return false;
  }
}

}  // namespace

void AddRuntimeCursor(Json& challenge, Context& context, const NodeRecord& node,
                      std::uint32_t runtime_pcr) {
  if (!node.runtime_cache) return;
  // A cursor kept for another runtime PCR (the policy changed) is useless.
  std::shared_ptr<const verifier::VerifiedRuntimeState> state = NodeRuntimeState(context, node);
  if (!state || state->runtime_pcr != runtime_pcr) return;
  challenge["runtime_log_cursor"] = {{"entries", node.runtime_cache->entries},
                                     {"reset_count", node.runtime_cache->reset_count},
                                     {"restart_count", node.runtime_cache->restart_count}};
}

std::shared_ptr<const verifier::VerifiedRuntimeState> NodeRuntimeState(Context& context,
                                                                       const NodeRecord& node) {
  if (!node.runtime_cache) return nullptr;
  const std::string& json_text = node.runtime_cache->verified_state_json;
  {
    std::lock_guard lock(context.node_cache_mutex);
    auto found = context.node_cache.find(node.node_id);
    if (found != context.node_cache.end() && found->second.runtime_state &&
        found->second.runtime_state_json == json_text) {
      return found->second.runtime_state;
    }
  }
  Result<Json> json = ParseJsonStrict(json_text);
  if (!json.ok()) return nullptr;
  Result<verifier::VerifiedRuntimeState> state = verifier::VerifiedRuntimeStateFromJson(*json);
  // The record's columns and its state must tell one story.
  if (!state.ok() || state->entries.size() != node.runtime_cache->entries ||
      state->reset_count != node.runtime_cache->reset_count ||
      state->restart_count != node.runtime_cache->restart_count) {
    return nullptr;
  }
  auto shared = std::make_shared<const verifier::VerifiedRuntimeState>(std::move(state).value());
  std::lock_guard lock(context.node_cache_mutex);
  NodeCacheEntry& entry = context.node_cache[node.node_id];
  entry.runtime_state_json = json_text;
  entry.runtime_state = shared;
  return shared;
}

bool AskForFullEvidence(const verifier::Evidence& evidence, verifier::Verdict& verdict) {
  const bool boot_asked = !evidence.boot_log && HasReason(verdict, ReasonCode::kBootLogRequired);
  const bool runtime_asked =
      evidence.runtime_log_start > 0 && HasReason(verdict, ReasonCode::kRuntimeLogRequired);
  if (!boot_asked && !runtime_asked) return false;
  if (boot_asked) {
    std::erase_if(verdict.reasons, [](const verifier::Reason& reason) {
      return reason.code != ReasonCode::kBootLogRequired && ExplainedByMissingBootLog(reason.code);
    });
  }
  std::ranges::stable_partition(verdict.reasons, [](const verifier::Reason& reason) {
    return reason.code == ReasonCode::kBootLogRequired ||
           reason.code == ReasonCode::kRuntimeLogRequired;
  });
  verdict.trusted = false;
  return true;
}

void KeepRuntimeCache(NodeRecord& node, const verifier::Verdict& verdict) {
  if (!verdict.verified_runtime) {
    node.runtime_cache.reset();
    return;
  }
  const verifier::VerifiedRuntimeState& state = *verdict.verified_runtime;
  // Nothing new since the cursor: the record already holds this state.
  if (verdict.runtime_from_cursor && node.runtime_cache &&
      node.runtime_cache->entries == state.entries.size() &&
      node.runtime_cache->reset_count == state.reset_count &&
      node.runtime_cache->restart_count == state.restart_count) {
    return;
  }
  RuntimeCache cache;
  cache.reset_count = state.reset_count;
  cache.restart_count = state.restart_count;
  cache.entries = state.entries.size();
  cache.verified_state_json = verifier::VerifiedRuntimeStateToJson(state).dump();
  node.runtime_cache = std::move(cache);
}

}  // namespace attest::service::api
