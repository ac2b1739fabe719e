// Attestation (docs/protocol.md §4): POST /v1/nodes/{node_id}/challenges
// issues a single-use nonce; POST /v1/nodes/{node_id}/evidence redeems it,
// verifies the evidence, records the verdict and its consequences (state,
// certificates, ledger) in one commit, and issues a node certificate for a
// CSR whose key a TPM2_Certify by the AK proves TPM-resident.
//
// Only evidence the node's AK signed over the issued nonce changes
// anything: anyone can fetch a challenge and post garbage, and that must
// not make a node untrusted. Nor does evidence that merely omitted its boot
// log where no cached one could stand in: the node resends in full.
#include <algorithm>

#include "attest/encoding.h"
#include "attest/ledger/kinds.h"
#include "attest/verifier/key_certification.h"

#include "attestation_commit.h"
#include "context.h"
#include "incremental_evidence.h"

namespace attest::service::api {
namespace {

using verifier::ReasonCode;

// The node named in the path, when it may attest.
Result<NodeRecord> AttestingNode(Context& context, const PathParams& params,
                                 std::optional<ApiError>& refused) {
  const std::string& node_id = params.at("node_id");
  if (!IsNodeId(node_id)) {
    refused = NotFound("no node " + node_id);
    return MakeError(ErrorCode::kNotFound, "");
  }
  ATTEST_ASSIGN_OR_RETURN(std::optional<NodeRecord> node, context.store->GetNode(node_id));
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

std::optional<ApiError> LimitRequest(Context& context, const http::Request& request,
                                     const PathParams& params, TimePoint now) {
  if (auto limited = Limit(context.by_address, request.client_address, now)) return limited;
  return Limit(context.by_node, params.at("node_id"), now);
}

http::Response IssueChallenge(Context& context, const http::Request& request,
                              const PathParams& params) {
  const TimePoint now = context.clock.Now();
  if (auto limited = LimitRequest(context, request, params, now)) return ErrorResponse(*limited);
  std::optional<ApiError> refused;
  Result<NodeRecord> node = AttestingNode(context, params, refused);
  if (refused) return ErrorResponse(*refused);
  if (!node.ok()) return ErrorResponse(FromError(node.error()));
  std::shared_ptr<const ActivePolicy> policy = CurrentPolicy(context);
  if (!policy) return ErrorResponse({503, "NO_POLICY", "no policy is in force yet"});
  IssuedChallenge challenge = context.challenges.Issue(
      node->node_id, now, std::chrono::seconds(policy->effective.nonce_lifetime_seconds));
  Json body = {{"nonce", HexEncode(challenge.nonce)},
               {"expires_at", FormatRfc3339Utc(challenge.expires_at)},
               {"pcr_selection", policy->effective.selection.ToString()},
               {"boot_log_cached", node->boot_cache.has_value()}};
  if (node->boot_cache) {
    body["boot_cache"] = {{"reset_count", node->boot_cache->reset_count},
                          {"restart_count", node->boot_cache->restart_count}};
  }
  AddRuntimeCursor(body, *node);
  return JsonResponse(201, body);
}

bool HasReason(const verifier::Verdict& verdict, ReasonCode code) {
  return std::ranges::any_of(
      verdict.reasons, [code](const verifier::Reason& reason) { return reason.code == code; });
}

// Evidence whose signature and nonce check out: the node itself speaks.
bool Authenticated(const verifier::Verdict& verdict) {
  return verdict.nonce_checked && !HasReason(verdict, ReasonCode::kAttestMalformed) &&
         !HasReason(verdict, ReasonCode::kSignatureInvalid) &&
         !HasReason(verdict, ReasonCode::kNonceMismatch);
}

std::string FirstFailure(const verifier::Verdict& verdict) {
  for (const verifier::Reason& reason : verdict.reasons) {
    if (!verifier::IsInformational(reason.code)) {
      return std::string(verifier::ReasonCodeName(reason.code));
    }
  }
  return "";
}

// The certificate for the evidence's CSR, when its key is proven
// TPM-resident (or file keys are allowed and no proof came).
Result<verifier::IssuedCertificate> IssueCertificate(Context& context, const NodeRecord& node,
                                                     const verifier::Evidence& evidence,
                                                     const verifier::AttestationKey& key,
                                                     const verifier::Policy& policy,
                                                     TimePoint now) {
  if (evidence.key_certification) {
    ATTEST_ASSIGN_OR_RETURN(Bytes csr_key, verifier::CsrPublicKey(*evidence.csr));
    ATTEST_RETURN_IF_ERROR(
        verifier::CheckKeyCertification(*evidence.key_certification, key, evidence.nonce, csr_key));
  } else if (!context.config.allow_file_keys) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "the CSR came without key_certification, and file keys are not allowed");
  }
  verifier::NodeCertificateRequest request;
  request.csr_pem = *evidence.csr;
  request.node_id = node.node_id;
  // The hostname is what the node said at enrollment: nothing the TPM or
  // the operator vouches for. In a CA-signed certificate it would let a
  // node claim another host's name (or the verifier's), so it stays a label
  // in the node record and never becomes a SAN. The identity is node_id.
  request.hostname.clear();
  request.trust_domain = policy.trust_domain.empty() ? "attest.local" : policy.trust_domain;
  request.lifetime = std::chrono::seconds(policy.certificate_lifetime_seconds);
  return context.ca->IssueNodeCertificate(request, now);
}

Json ReasonsJson(const verifier::Verdict& verdict) {
  Json reasons = Json::array();
  for (const verifier::Reason& reason : verdict.reasons) {
    reasons.push_back(verifier::ReasonToJson(reason));
  }
  return reasons;
}

http::Response Attest(Context& context, const http::Request& request, const PathParams& params) {
  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  const TimePoint now = context.clock.Now();
  if (auto limited = LimitRequest(context, request, params, now)) return ErrorResponse(*limited);
  if (request.body.size() > verifier::kMaxEvidenceBytes) {
    return ErrorResponse({413, "BODY_TOO_LARGE", "evidence is limited to 16 MiB"});
  }
  std::optional<ApiError> refused;
  Result<NodeRecord> found = AttestingNode(context, params, refused);
  if (refused) return ErrorResponse(*refused);
  if (!found.ok()) return ErrorResponse(FromError(found.error()));
  NodeRecord node = std::move(found).value();
  Result<verifier::Evidence> evidence = verifier::ParseEvidence(request.body, "evidence");
  if (!evidence.ok()) {
    return ErrorResponse(BadRequest("EVIDENCE_MALFORMED", evidence.error().message));
  }
  ChallengeOutcome outcome = context.challenges.Redeem(node.node_id, evidence->nonce, now);
  if (outcome != ChallengeOutcome::kValid) {
    std::string_view code = verifier::ReasonCodeName(ReasonFor(outcome));
    context.metrics.CountAttestation("refused", code, seconds());
    return ErrorResponse(Conflict(std::string(code),
                                  "the evidence's nonce is not an outstanding challenge for this "
                                  "node (" +
                                      std::string(code) + "): ask for a new one"));
  }
  std::shared_ptr<const ActivePolicy> policy = CurrentPolicy(context);
  if (!policy) return ErrorResponse({503, "NO_POLICY", "no policy is in force yet"});
  Result<std::shared_ptr<const verifier::AttestationKey>> key = NodeKey(context, node);
  if (!key.ok()) return ErrorResponse(FromError(key.error()));
  std::shared_ptr<const verifier::VerifiedBootState> cached_boot;
  if (!evidence->boot_log) cached_boot = NodeBootState(context, node);
  std::shared_ptr<const verifier::VerifiedRuntimeState> cached_runtime;
  if (evidence->runtime_log_start > 0) cached_runtime = NodeRuntimeState(context, node);

  verifier::VerificationInput input{*evidence, **key, policy->effective, evidence->nonce,
                                    std::nullopt};
  if (node.last_clock && node.last_reset_count && node.last_restart_count) {
    input.previous_clock = verifier::QuoteClock{*node.last_clock, *node.last_reset_count,
                                                *node.last_restart_count, true};
  }
  input.cached_boot = cached_boot.get();
  input.cached_runtime = cached_runtime.get();
  verifier::Verdict verdict = verifier::VerifyEvidence(input);
  Json verdict_json = verifier::VerdictToJson(verdict);
  verdict_json["boot_log_from_cache"] = verdict.boot_from_cache;
  verdict_json["runtime_log_from_cursor"] = verdict.runtime_from_cursor;

  Json body = {{"node_id", node.node_id}, {"verdict", verdict_json}};
  if (!Authenticated(verdict) || ResendRequired(*evidence, verdict)) {
    context.metrics.CountAttestation("untrusted", FirstFailure(verdict), seconds());
    body["state"] = NodeStateName(node.state);
    body["recorded"] = false;
    return JsonResponse(200, body);
  }

  const NodeState previous = node.state;
  node.last_attestation = now;
  node.last_verdict_json = verdict_json.dump();
  StoreChange change;
  std::optional<verifier::IssuedCertificate> issued;
  if (verdict.trusted) {
    node.state = NodeState::kTrusted;
    node.last_clock = verdict.quote->clock.clock;
    node.last_reset_count = verdict.quote->clock.reset_count;
    node.last_restart_count = verdict.quote->clock.restart_count;
    if (verdict.verified_boot && evidence->boot_log) {
      BootCache cache;
      cache.reset_count = verdict.verified_boot->reset_count;
      cache.restart_count = verdict.verified_boot->restart_count;
      Sha256Digest digest = Sha256Of(*evidence->boot_log);
      cache.boot_log_digest.assign(digest.begin(), digest.end());
      cache.verified_state_json = verifier::VerifiedBootStateToJson(*verdict.verified_boot).dump();
      node.boot_cache = std::move(cache);
    }
    KeepRuntimeCache(node, verdict);
    if (previous != NodeState::kTrusted) {
      change.events.push_back(
          {std::string(ledger::kinds::kNodeTrusted),
           {{"node_id", node.node_id}, {"previous_state", NodeStateName(previous)}}});
    }
    if (evidence->csr) {
      auto certificate = IssueCertificate(context, node, *evidence, **key, policy->effective, now);
      if (certificate.ok()) {
        issued = std::move(certificate).value();
        change.new_certificates.push_back({issued->serial_hex, node.node_id, issued->not_before,
                                           issued->not_after, issued->certificate_pem, std::nullopt,
                                           ""});
        change.events.push_back({std::string(ledger::kinds::kCertIssued),
                                 {{"node_id", node.node_id},
                                  {"serial", issued->serial_hex},
                                  {"not_after", FormatRfc3339Utc(issued->not_after)}}});
      } else {
        body["certificate_error"] = certificate.error().message;
      }
    }
  } else {
    node.state = NodeState::kUntrusted;
    node.boot_cache.reset();
    node.runtime_cache.reset();
    change.events.push_back({std::string(ledger::kinds::kAttestationFailed),
                             {{"node_id", node.node_id}, {"reasons", ReasonsJson(verdict)}}});
    if (previous != NodeState::kUntrusted) {
      change.events.push_back({std::string(ledger::kinds::kNodeUntrusted),
                               {{"node_id", node.node_id},
                                {"previous_state", NodeStateName(previous)},
                                {"reason", FirstFailure(verdict)}}});
    }
    if (Status revoked = RevokeCertificatesIn(context, change, node.node_id, now,
                                              "attestation failed: " + FirstFailure(verdict));
        !revoked.ok()) {
      return ErrorResponse(FromError(revoked.error()));
    }
  }
  change.node = node;
  Result<CommitResult> committed = CommitAttestation(context, change, previous);
  if (!committed.ok()) return ErrorResponse(FromError(committed.error()));
  if (previous != node.state) {
    NotifyStateChange(context, node, previous,
                      verdict.trusted ? "attestation passed" : FirstFailure(verdict));
  }
  context.metrics.CountAttestation(verdict.trusted ? "trusted" : "untrusted", FirstFailure(verdict),
                                   seconds());
  body["state"] = NodeStateName(node.state);
  body["recorded"] = true;
  if (issued) {
    body["certificate_chain"] = issued->chain_pem;
    body["not_after"] = FormatRfc3339Utc(issued->not_after);
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
