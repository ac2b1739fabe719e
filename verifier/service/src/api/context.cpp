// The helpers every handler shares: authorization, rate limits, the one
// commit path, the policy in force and the per-node caches.
#include "context.h"

#include <iostream>

#include "attest/ledger/kinds.h"
#include "attest/service/ledger_writer.h"
#include "attest/service/tokens.h"
#include "attest/signer/approvals.h"

namespace attest::service::api {
namespace {

// How often the ledger's size is looked at for new signer approvals.
constexpr std::chrono::seconds kApprovalRefresh{2};

}  // namespace

bool IsNodeId(std::string_view text) {
  return text.size() == 64 && std::ranges::all_of(text, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<ApiError> Authorize(Context& context, const http::Request& request, Role minimum) {
  std::optional<std::string_view> header = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!header || !header->starts_with(kBearer)) {
    return ApiError{401, "UNAUTHENTICATED", "an API token is required (Authorization: Bearer)"};
  }
  if (context.config.client_ca && !request.client_certificate_pem) {
    return ApiError{401, "UNAUTHENTICATED",
                    "a client certificate from the configured client CA is required as well as "
                    "a token"};
  }
  std::optional<PresentedToken> presented = ParseToken(header->substr(kBearer.size()));
  if (!presented) return ApiError{401, "UNAUTHENTICATED", "the token is not valid"};
  Result<std::optional<TokenRecord>> record = context.store->GetToken(presented->token_id);
  if (!record.ok()) return FromError(record.error());
  if (!*record || !TokenMatches(**record, *presented)) {
    return ApiError{401, "UNAUTHENTICATED", "the token is not valid"};
  }
  if (static_cast<int>((*record)->role) < static_cast<int>(minimum)) {
    return ApiError{403, "FORBIDDEN",
                    "this needs the " + std::string(RoleName(minimum)) + " role; the token is " +
                        std::string(RoleName((*record)->role))};
  }
  return std::nullopt;
}

std::optional<ApiError> Limit(RateLimiter& limiter, std::string_view key, TimePoint now) {
  int wait = limiter.Take(key, now);
  if (wait == 0) return std::nullopt;
  return ApiError{429, "RATE_LIMITED", "too many requests; retry later", wait};
}

void DrainLedger(Context& context) {
  std::lock_guard lock(context.ledger_mutex);
  Result<std::size_t> drained = DrainLedgerOutbox(*context.store, *context.ledger);
  if (!drained.ok()) {
    std::cerr << "verifier: ledger outbox: " << drained.error().ToString()
              << " (kept for the next drain)\n";
    return;
  }
  if (Result<std::uint64_t> size = context.ledger->Size(); size.ok()) {
    context.metrics.SetLedgerSize(*size);
  }
}

Result<CommitResult> CommitChange(Context& context, const StoreChange& change) {
  ATTEST_ASSIGN_OR_RETURN(CommitResult result, context.store->Commit(change));
  if (!result.revoked_serials.empty()) {
    context.metrics.CountCertificatesRevoked(result.revoked_serials.size());
    std::lock_guard lock(context.crl_mutex);
    context.crl_pem.clear();
  }
  if (!change.new_certificates.empty()) {
    context.metrics.CountCertificatesIssued(change.new_certificates.size());
  }
  if (change.node) {
    if (auto counts = context.store->CountNodesByState(); counts.ok()) {
      context.metrics.SetNodes(*counts);
    }
  }
  if (!change.events.empty()) DrainLedger(context);
  return result;
}

Status RevokeCertificatesIn(Context& context, StoreChange& change, const std::string& node_id,
                            TimePoint now, std::string_view reason) {
  ATTEST_ASSIGN_OR_RETURN(std::vector<CertificateRecord> certificates,
                          context.store->CertificatesOf(node_id));
  std::vector<std::string> serials;
  for (const CertificateRecord& certificate : certificates) {
    if (!certificate.revoked_at) serials.push_back(certificate.serial_hex);
  }
  change.revoke_certificates_of = node_id;
  change.revoked_at = now;
  change.revocation_reason = std::string(reason);
  if (!serials.empty()) {
    change.events.push_back({std::string(ledger::kinds::kCertRevoked),
                             {{"node_id", node_id}, {"serials", serials}, {"reason", reason}}});
  }
  return OkStatus();
}

Status InstallPolicy(Context& context, const PolicyRecord& record) {
  ATTEST_ASSIGN_OR_RETURN(verifier::Policy policy,
                          verifier::ParsePolicy(record.document, "policy"));
  auto active = std::make_shared<ActivePolicy>();
  active->record = record;
  active->policy = policy;
  active->effective = std::move(policy);
  {
    // Two PUTs commit in serial order but may reach here in either order:
    // the one in force is always the highest serial committed, never older.
    std::lock_guard lock(context.policy_mutex);
    if (context.policy && context.policy->record.serial >= record.serial) return OkStatus();
    context.policy = std::move(active);
  }
  // Re-read the approvals at once for the new inline set.
  std::shared_ptr<const ActivePolicy> refreshed = CurrentPolicy(context);
  (void)refreshed;
  return OkStatus();
}

std::shared_ptr<const ActivePolicy> CurrentPolicy(Context& context) {
  std::shared_ptr<const ActivePolicy> current;
  {
    std::lock_guard lock(context.policy_mutex);
    current = context.policy;
  }
  if (!current || context.approval_keys.size() == 0) return current;
  const TimePoint now = context.clock.Now();
  if (current->checked_at != TimePoint{} && now - current->checked_at < kApprovalRefresh) {
    return current;
  }
  std::lock_guard ledger_lock(context.ledger_mutex);
  auto next = std::make_shared<ActivePolicy>(*current);
  next->checked_at = now;
  Result<std::uint64_t> size = context.ledger->Size();
  if (size.ok() && (*size != current->ledger_size_seen || current->checked_at == TimePoint{})) {
    Result<signer::ApprovedSet> approved =
        signer::ApprovedRuntimeDigests(*context.ledger, context.approval_keys);
    if (approved.ok()) {
      next->effective.runtime.allowed_digests = next->policy.runtime.allowed_digests;
      next->effective.runtime.allowed_digests.insert(approved->digests.begin(),
                                                     approved->digests.end());
      next->ledger_size_seen = *size;
    } else {
      std::cerr << "verifier: reading approvals: " << approved.error().ToString() << "\n";
    }
  }
  std::lock_guard lock(context.policy_mutex);
  // Another request may have installed a new policy meanwhile: keep it.
  if (context.policy == current) context.policy = next;
  return context.policy;
}

Result<std::shared_ptr<const verifier::AttestationKey>> NodeKey(Context& context,
                                                                const NodeRecord& node) {
  {
    std::lock_guard lock(context.node_cache_mutex);
    auto found = context.node_cache.find(node.node_id);
    if (found != context.node_cache.end() && found->second.key &&
        found->second.ak_public == node.ak_public) {
      return found->second.key;
    }
  }
  ATTEST_ASSIGN_OR_RETURN(verifier::AttestationKey key,
                          verifier::ParseAttestationKey(node.ak_public));
  auto shared = std::make_shared<const verifier::AttestationKey>(std::move(key));
  std::lock_guard lock(context.node_cache_mutex);
  NodeCacheEntry& entry = context.node_cache[node.node_id];
  entry.ak_public = node.ak_public;
  entry.key = shared;
  return shared;
}

std::shared_ptr<const verifier::VerifiedBootState> NodeBootState(Context& context,
                                                                 const NodeRecord& node) {
  if (!node.boot_cache) return nullptr;
  const std::string& json_text = node.boot_cache->verified_state_json;
  {
    std::lock_guard lock(context.node_cache_mutex);
    auto found = context.node_cache.find(node.node_id);
    if (found != context.node_cache.end() && found->second.boot_state &&
        found->second.boot_state_json == json_text) {
      return found->second.boot_state;
    }
  }
  Result<Json> json = ParseJsonStrict(json_text);
  if (!json.ok()) return nullptr;
  Result<verifier::VerifiedBootState> state = verifier::VerifiedBootStateFromJson(*json);
  if (!state.ok()) return nullptr;  // a doubt: the node sends its log
  auto shared = std::make_shared<const verifier::VerifiedBootState>(std::move(state).value());
  std::lock_guard lock(context.node_cache_mutex);
  NodeCacheEntry& entry = context.node_cache[node.node_id];
  entry.boot_state_json = json_text;
  entry.boot_state = shared;
  return shared;
}

void NotifyStateChange(Context& context, const NodeRecord& node, NodeState previous,
                       std::string_view why) {
  if (!context.webhooks) return;
  context.webhooks->Enqueue({{"event", "node.state_changed"},
                             {"node_id", node.node_id},
                             {"hostname", node.hostname},
                             {"previous_state", NodeStateName(previous)},
                             {"state", NodeStateName(node.state)},
                             {"reason", why},
                             {"time", FormatRfc3339Utc(context.clock.Now())}});
}

}  // namespace attest::service::api
