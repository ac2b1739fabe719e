// Attestation (docs/protocol.md §4): POST /v1/nodes/{node_id}/challenges
// issues a single-use nonce; POST /v1/nodes/{node_id}/evidence checks it,
// verifies the evidence, and records the verdict (verdict_record.h). The
// nonce is used up by the check (SQLite: the in-memory book) or, with
// PostgreSQL, redeemed in the verdict's own transaction: a verdict is
// recorded exactly when its nonce is used up, and evidence whose nonce
// another verifier redeemed first is refused NONCE_REUSED after its
// verification, with nothing recorded.
//
// Only evidence the node's AK signed over the issued nonce changes
// anything: anyone can fetch a challenge and post garbage, and that must
// not make a node untrusted, nor cost more than one signature check (the
// logs are parsed and replayed only after it), nor spend the node's own
// rate limit or challenges. Authenticated evidence that omitted its boot
// log where no cached one could stand in is a failure (BOOT_LOG_REQUIRED):
// its quote may show another boot; the node resends in full.
#include "attest/encoding.h"

#include "context.h"
#include "incremental_evidence.h"
#include "verdict_record.h"

namespace attest::service::api {
namespace {

// Evidence the fast reader refuses is read again by the strict one, which
// names the member at fault, only up to this size: anyone may post
// evidence, and the strict reader's tree is much larger than the text.
constexpr std::size_t kStrictEvidenceRereadLimit = std::size_t{1} << 20;

bool ChangedSince(const NodeRecord& node, const MintedRow& minted) {
  return node.version != minted.version || node.row_token != minted.row_token;
}

// The answer to evidence whose challenge was minted from a row that has
// changed since: unjudged, as what the challenge told the node (its cached
// boot log, its runtime cursor) may no longer hold. Nothing is recorded and
// the nonce is unspent; the challenge's row is put back, so the same
// evidence again is refused the same way.
http::Response RefuseUnjudged(Context& context, ByteView nonce, const std::string& node_id,
                              const MintedRow& minted) {
  context.minted_challenges.Remember(nonce, node_id, minted);
  return ErrorResponse(ApiError{
      503, "BUSY",
      "node " + node_id + " changed since its challenge was issued; ask for a new challenge", 1});
}

// Which read of the node a request stands on.
struct NodeRead {
  // For a challenge to mint against (ServiceStore::GetNodeForChallenge).
  bool for_challenge = false;
  // The row the challenge being answered was minted against, when this
  // verifier minted it (ServiceStore::GetNodeAsRead): the evidence is
  // verified against what the challenge told the node, or not at all when
  // the row has changed since (its cached boot log, its runtime cursor may
  // no longer be what the node was told). The verdict's commit, guarded by
  // that version, refuses any change after (a failure is then applied again
  // to the node as it is: verdict_record.h).
  std::optional<MintedRow> challenged;
};

// The node named in the path, when it may attest.
Result<NodeRecord> AttestingNode(Context& context, const PathParams& params,
                                 std::optional<ApiError>& refused, NodeRead how) {
  const std::string& node_id = params.at("node_id");
  if (!IsNodeId(node_id)) {
    refused = NotFound("no node " + node_id);
    return MakeError(ErrorCode::kNotFound, "");
  }
  ATTEST_ASSIGN_OR_RETURN(std::optional<NodeRecord> node,
                          how.for_challenge ? context.store->GetNodeForChallenge(node_id)
                          : how.challenged
                              ? context.store->GetNodeAsRead(node_id, how.challenged->version,
                                                             how.challenged->row_token)
                              : context.store->GetNode(node_id));
  if (!node) {
    refused = NotFound("no node " + node_id);
    return MakeError(ErrorCode::kNotFound, "");
  }
  if (node->state == NodeState::kPendingApproval) {
    refused = ApiError{403, "NODE_PENDING_APPROVAL",
                       "node " + node_id + " waits for an operator's approval"};
  } else if (node->state == NodeState::kRevoked) {
    refused = ApiError{403, "NODE_REVOKED", "node " + node_id + " was revoked by an operator"};
  }
  if (refused) return MakeError(ErrorCode::kPermissionDenied, "");
  return std::move(*node);
}

// The node may leave out its boot log: the verifier holds a verified one
// that a quote of the policy's selection could be decided on. After a
// policy changed the selection or the runtime PCR it cannot, and a node
// told otherwise would fail (BOOT_LOG_REQUIRED is a recorded failure).
bool BootCacheUsable(Context& context, const NodeRecord& node, const verifier::Policy& policy) {
  if (!node.boot_cache) return false;
  std::shared_ptr<const verifier::VerifiedBootState> state = NodeBootState(context, node);
  return state && verifier::CachedBootFitsSelection(*state, policy.selection, policy.runtime.pcr);
}

http::Response NonceRefused(Context& context, ChallengeOutcome outcome, double seconds) {
  std::string_view code = verifier::ReasonCodeName(ReasonFor(outcome));
  context.metrics.CountAttestation("refused", code, seconds);
  return ErrorResponse(Conflict(std::string(code),
                                "the evidence's nonce is not an outstanding challenge for this "
                                "node (" +
                                    std::string(code) + "): ask for a new one"));
}

// Unauthenticated: limited per client address only. A node's own limit
// (by_node) is charged only for evidence its AK signed, so a stranger's
// flood spends the stranger's budget and the stranger's challenges.
http::Response IssueChallenge(Context& context, const http::Request& request,
                              const PathParams& params) {
  const TimePoint now = context.clock.Now();
  if (auto limited = Limit(context.by_address, request.client_address, now)) {
    return ErrorResponse(*limited);
  }
  std::optional<ApiError> refused;
  // What the challenge tells the node (its cached boot log, its runtime
  // cursor) is the database's row, or an earlier state of it that the
  // answer's guarded commit refuses (ServiceStore::GetNodeForChallenge).
  Result<NodeRecord> node =
      AttestingNode(context, params, refused, {.for_challenge = true, .challenged = std::nullopt});
  if (refused) return ErrorResponse(*refused);
  if (!node.ok()) return ErrorResponse(FromError(node.error()));
  std::shared_ptr<const ActivePolicy> policy = CurrentPolicy(context);
  if (!policy) return ErrorResponse({503, "NO_POLICY", "no policy is in force yet"});
  const auto lifetime = std::chrono::seconds(policy->effective.nonce_lifetime_seconds);
  Result<IssuedChallenge> challenge =
      IssueNodeChallenge(context, *node, request.client_address, now, lifetime);
  if (!challenge.ok()) return ErrorResponse(FromError(challenge.error()));
  Json body = {{"nonce", HexEncode(challenge->nonce)},
               {"expires_at", FormatRfc3339Utc(challenge->expires_at)},
               {"pcr_selection", policy->effective.selection.ToString()},
               {"boot_log_cached", BootCacheUsable(context, *node, policy->effective)}};
  if (body["boot_log_cached"] == true) {
    body["boot_cache"] = {{"reset_count", node->boot_cache->reset_count},
                          {"restart_count", node->boot_cache->restart_count}};
  }
  AddRuntimeCursor(body, context, *node, policy->effective.runtime.pcr);
  return JsonResponse(201, body);
}

http::Response Attest(Context& context, const http::Request& request, const PathParams& params) {
  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  const TimePoint now = context.clock.Now();
  if (auto limited = Limit(context.by_address, request.client_address, now)) {
    return ErrorResponse(*limited);
  }
  if (request.body.size() > verifier::kMaxEvidenceBytes) {
    return ErrorResponse({413, "BODY_TOO_LARGE", "evidence is limited to 16 MiB"});
  }
  if (!IsNodeId(params.at("node_id"))) {
    return ErrorResponse(NotFound("no node " + params.at("node_id")));
  }
  Result<verifier::Evidence> evidence =
      verifier::ParseUntrustedEvidence(request.body, "evidence", kStrictEvidenceRereadLimit);
  if (!evidence.ok()) {
    return ErrorResponse(BadRequest("EVIDENCE_MALFORMED", evidence.error().message));
  }
  std::optional<ApiError> refused;
  const std::optional<MintedRow> minted =
      context.minted_challenges.Take(evidence->nonce, params.at("node_id"));
  Result<NodeRecord> found =
      AttestingNode(context, params, refused, {.for_challenge = false, .challenged = minted});
  if (refused) return ErrorResponse(*refused);
  if (!found.ok()) return ErrorResponse(FromError(found.error()));
  NodeRecord node = std::move(found).value();
  if (minted && ChangedSince(node, *minted)) {
    return RefuseUnjudged(context, evidence->nonce, node.node_id, *minted);
  }
  Result<CheckedChallenge> challenge =
      CheckNodeChallenge(context, node.node_id, evidence->nonce, now);
  if (!challenge.ok()) return ErrorResponse(FromError(challenge.error()));
  if (challenge->outcome != ChallengeOutcome::kValid) {
    return NonceRefused(context, challenge->outcome, seconds());
  }
  std::shared_ptr<const ActivePolicy> policy = CurrentPolicy(context);
  if (!policy) return ErrorResponse({503, "NO_POLICY", "no policy is in force yet"});
  Result<std::shared_ptr<const verifier::AttestationKey>> key = NodeKey(context, node);
  if (!key.ok()) return ErrorResponse(FromError(key.error()));

  verifier::VerificationInput input{*evidence, **key, policy->effective, evidence->nonce,
                                    std::nullopt};
  if (node.last_clock && node.last_reset_count && node.last_restart_count) {
    input.previous_clock = verifier::QuoteClock{*node.last_clock, *node.last_reset_count,
                                                *node.last_restart_count, true};
  }
  Json body = {{"node_id", node.node_id}};
  // The signature and nonce first: a stranger's evidence ends here.
  verifier::QuoteCheck quote = verifier::CheckQuoteFirst(input);
  if (!quote.authenticated()) {
    // The row the challenge was minted from may have been taken unasked
    // (solo mode) and be an older one than another writer's (a node that
    // re-enrolled with a new AK): read it, so the next challenge is minted
    // from the row as it is.
    if (minted) {
      Result<std::optional<NodeRecord>> now_stored = context.store->GetNode(node.node_id);
      if (now_stored.ok() && *now_stored && ChangedSince(**now_stored, *minted)) {
        return RefuseUnjudged(context, evidence->nonce, node.node_id, *minted);
      }
    }
    context.metrics.CountAttestation("untrusted", FirstFailure(quote.verdict()), seconds());
    body["verdict"] = verifier::VerdictToJson(quote.verdict());
    body["verdict"]["boot_log_from_cache"] = false;
    body["verdict"]["runtime_log_from_cursor"] = false;
    body["state"] = NodeStateName(node.state);
    body["recorded"] = false;
    return JsonResponse(200, body);
  }
  if (auto limited = Limit(context.by_node, node.node_id, now)) return ErrorResponse(*limited);
  std::shared_ptr<const verifier::VerifiedBootState> cached_boot;
  if (!evidence->boot_log) cached_boot = NodeBootState(context, node);
  input.cached_boot = cached_boot.get();
  std::shared_ptr<const verifier::VerifiedRuntimeState> cached_runtime;
  if (evidence->runtime_log_start > 0) cached_runtime = NodeRuntimeState(context, node);
  input.cached_runtime = cached_runtime.get();
  verifier::Verdict verdict = verifier::VerifyEvidence(input, std::move(quote));
  AskForFullEvidence(*evidence, verdict);
  Json verdict_json = verifier::VerdictToJson(verdict);
  verdict_json["boot_log_from_cache"] = verdict.boot_from_cache;
  verdict_json["runtime_log_from_cursor"] = verdict.runtime_from_cursor;
  body["verdict"] = verdict_json;

  Result<RecordedVerdict> recorded =
      RecordVerdict(context, std::move(node), *evidence, verdict, verdict_json, **key,
                    policy->effective, now, std::move(challenge->answer));
  if (!recorded.ok()) return ErrorResponse(FromError(recorded.error()));
  // Another verifier (or request) redeemed the nonce first: this verdict is
  // not recorded, and not answered.
  if (recorded->nonce_refused) return NonceRefused(context, *recorded->nonce_refused, seconds());
  context.metrics.CountAttestation(verdict.trusted ? "trusted" : "untrusted", FirstFailure(verdict),
                                   seconds());
  body["state"] = NodeStateName(recorded->node.state);
  body["recorded"] = recorded->recorded;
  if (!recorded->certificate_error.empty()) body["certificate_error"] = recorded->certificate_error;
  if (recorded->issued) {
    body["certificate_chain"] = recorded->issued->chain_pem;
    body["not_after"] = FormatRfc3339Utc(recorded->issued->not_after);
  }
  return JsonResponse(200, body);
}

}  // namespace

void AddAttestationRoutes(Router& router, Context& context) {
  router.Add("POST /v1/nodes/{node_id}/challenges",
             [&context](const http::Request& request, const PathParams& params) {
               return IssueChallenge(context, request, params);
             });
  router.Add(
      "POST /v1/nodes/{node_id}/evidence",
      [&context](const http::Request& request, const PathParams& params) {
        return Attest(context, request, params);
      },
      kServerBodyLimit);  // evidence is up to 16 MiB
}

}  // namespace attest::service::api
