// Nodes and the CA: GET /v1/nodes (reader), GET /v1/nodes/{id} (reader),
// POST /v1/nodes/{id}/revoke and /approve (operator), GET
// /v1/ca/certificates and /v1/ca/crl (public: relying parties need them).
#include <charconv>

#include "attest/ledger/kinds.h"

#include "context.h"

namespace attest::service::api {
namespace {

constexpr std::size_t kDefaultPage = 100;
constexpr std::size_t kMaxPage = 1000;

std::optional<std::size_t> ParseCount(std::string_view text) {
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

http::Response ListNodes(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kReader)) return ErrorResponse(*denied);
  std::optional<NodeState> state;
  if (auto text = request.Query("state")) {
    state = ParseNodeState(*text);
    if (!state) return ErrorResponse(BadRequest("INVALID_QUERY", "state: unknown state"));
  }
  std::size_t limit = kDefaultPage;
  if (auto text = request.Query("limit")) {
    auto parsed = ParseCount(*text);
    if (!parsed || *parsed == 0 || *parsed > kMaxPage) {
      return ErrorResponse(BadRequest("INVALID_QUERY", "limit: 1 to 1000"));
    }
    limit = *parsed;
  }
  std::string after(request.Query("after").value_or(""));
  ExpireStaleNodes(context);  // never list a stale node as trusted
  auto nodes = context.store->ListNodes(state, after, limit);
  if (!nodes.ok()) return ErrorResponse(FromError(nodes.error()));
  Json items = Json::array();
  for (const NodeRecord& node : *nodes) {
    Json item = {{"node_id", node.node_id},
                 {"hostname", node.hostname},
                 {"state", NodeStateName(node.state)},
                 {"enrolled_at", FormatRfc3339Utc(node.enrolled_at)}};
    if (node.last_attestation) item["last_attestation"] = FormatRfc3339Utc(*node.last_attestation);
    items.push_back(std::move(item));
  }
  Json body = {{"nodes", items}};
  if (nodes->size() == limit) body["next_after"] = nodes->back().node_id;
  return JsonResponse(200, body);
}

Result<NodeRecord> PathNode(Context& context, const PathParams& params) {
  const std::string& node_id = params.at("node_id");
  if (!IsNodeId(node_id)) return MakeError(ErrorCode::kNotFound, "no node " + node_id);
  ATTEST_ASSIGN_OR_RETURN(std::optional<NodeRecord> node, context.store->GetNode(node_id));
  if (!node) return MakeError(ErrorCode::kNotFound, "no node " + node_id);
  return std::move(*node);
}

http::Response ShowNode(Context& context, const http::Request& request, const PathParams& params) {
  if (auto denied = Authorize(context, request, Role::kReader)) return ErrorResponse(*denied);
  ExpireStaleNodes(context);  // never show a stale node as trusted
  Result<NodeRecord> node = PathNode(context, params);
  if (!node.ok()) return ErrorResponse(FromError(node.error()));
  auto certificates = context.store->CertificatesOf(node->node_id);
  if (!certificates.ok()) return ErrorResponse(FromError(certificates.error()));
  return JsonResponse(200, NodeToJson(*node, *certificates));
}

http::Response RevokeNode(Context& context, const http::Request& request,
                          const PathParams& params) {
  if (auto denied = Authorize(context, request, Role::kOperator)) return ErrorResponse(*denied);
  Result<NodeRecord> node = PathNode(context, params);
  if (!node.ok()) return ErrorResponse(FromError(node.error()));
  const TimePoint now = context.clock.Now();
  const NodeState previous = node->state;
  node->state = NodeState::kRevoked;
  node->boot_cache.reset();
  node->runtime_cache.reset();
  StoreChange change;
  change.node = *node;
  change.events.push_back(
      {std::string(ledger::kinds::kNodeRevoked),
       {{"node_id", node->node_id}, {"previous_state", NodeStateName(previous)}}});
  if (Status revoked = RevokeCertificatesIn(context, change, node->node_id, now, "node revoked");
      !revoked.ok()) {
    return ErrorResponse(FromError(revoked.error()));
  }
  Result<CommitResult> committed = CommitChange(context, change);
  if (!committed.ok()) return ErrorResponse(FromError(committed.error()));
  if (previous != node->state)
    NotifyStateChange(context, *node, previous, "revoked by an operator");
  return JsonResponse(200, {{"node_id", node->node_id},
                            {"state", NodeStateName(node->state)},
                            {"revoked_certificates", committed->revoked_serials}});
}

http::Response ApproveNode(Context& context, const http::Request& request,
                           const PathParams& params) {
  if (auto denied = Authorize(context, request, Role::kOperator)) return ErrorResponse(*denied);
  Result<NodeRecord> node = PathNode(context, params);
  if (!node.ok()) return ErrorResponse(FromError(node.error()));
  if (node->state != NodeState::kPendingApproval && node->state != NodeState::kRevoked) {
    return ErrorResponse(Conflict(
        "NOT_PENDING", "node " + node->node_id + " is " + std::string(NodeStateName(node->state))));
  }
  const NodeState previous = node->state;
  node->state = NodeState::kEnrolled;
  StoreChange change;
  change.node = *node;
  change.events.push_back(
      {std::string(ledger::kinds::kNodeApproved),
       {{"node_id", node->node_id}, {"previous_state", NodeStateName(previous)}}});
  Result<CommitResult> committed = CommitChange(context, change);
  if (!committed.ok()) return ErrorResponse(FromError(committed.error()));
  NotifyStateChange(context, *node, previous, "approved by an operator");
  return JsonResponse(200, {{"node_id", node->node_id}, {"state", NodeStateName(node->state)}});
}

http::Response CaCertificates(Context& context) {
  return TextResponse(200, "application/pem-certificate-chain", context.ca->chain_pem());
}

// Regenerated after every revocation (and when half its validity passed).
http::Response Crl(Context& context) {
  const TimePoint now = context.clock.Now();
  std::lock_guard lock(context.crl_mutex);
  // The store's revoked set on every request (one indexed read): another
  // verifier on the same database may have revoked since this one's CRL.
  auto revoked = context.store->RevokedCertificates(now);
  if (!revoked.ok()) {
    // The store out of reach: the last CRL made, while it is valid, rather
    // than nothing (a relying party that gives up on a missing CRL would
    // accept every revoked certificate).
    if (!context.crl_pem.empty() && now - context.crl_made_at < context.config.crl_validity) {
      return TextResponse(200, "application/pkix-crl", context.crl_pem);
    }
    return ErrorResponse(FromError(revoked.error()));
  }
  std::vector<std::string> serials;
  for (const CertificateRecord& record : *revoked) serials.push_back(record.serial_hex);
  if (context.crl_pem.empty() || serials != context.crl_serials ||
      now - context.crl_made_at > context.config.crl_validity / 2) {
    std::vector<verifier::RevokedCertificate> entries;
    for (const CertificateRecord& record : *revoked) {
      entries.push_back({record.serial_hex, record.revoked_at.value_or(now)});
    }
    auto number = context.store->NextCrlNumber();
    if (!number.ok()) return ErrorResponse(FromError(number.error()));
    auto crl = context.ca->MakeCrl(entries, *number, now, context.config.crl_validity);
    if (!crl.ok()) return ErrorResponse(FromError(crl.error()));
    context.crl_pem = std::move(crl).value();
    context.crl_made_at = now;
    context.crl_serials = std::move(serials);
  }
  return TextResponse(200, "application/pkix-crl", context.crl_pem);
}

}  // namespace

Json NodeToJson(const NodeRecord& node, const std::vector<CertificateRecord>& certificates) {
  Json json = {{"node_id", node.node_id},
               {"hostname", node.hostname},
               {"state", NodeStateName(node.state)},
               {"enrolled_at", FormatRfc3339Utc(node.enrolled_at)},
               {"ek_certificate", node.ek_certificate.has_value()},
               {"boot_log_cached", node.boot_cache.has_value()}};
  if (node.last_attestation) json["last_attestation"] = FormatRfc3339Utc(*node.last_attestation);
  if (!node.last_verdict_json.empty()) {
    Result<Json> verdict = ParseJsonStrict(node.last_verdict_json);
    if (verdict.ok()) json["last_verdict"] = *verdict;
  }
  Json list = Json::array();
  std::optional<TimePoint> expiry;
  for (const CertificateRecord& certificate : certificates) {
    Json item = {{"serial", certificate.serial_hex},
                 {"not_before", FormatRfc3339Utc(certificate.not_before)},
                 {"not_after", FormatRfc3339Utc(certificate.not_after)},
                 {"revoked", certificate.revoked_at.has_value()}};
    if (certificate.revoked_at) {
      item["revoked_at"] = FormatRfc3339Utc(*certificate.revoked_at);
      item["revocation_reason"] = certificate.revocation_reason;
    } else if (!expiry || certificate.not_after > *expiry) {
      expiry = certificate.not_after;
    }
    list.push_back(std::move(item));
  }
  json["certificates"] = list;
  json["certificate_expiry"] = expiry ? Json(FormatRfc3339Utc(*expiry)) : Json(nullptr);
  return json;
}

void AddNodeRoutes(Router& router, Context& context) {
  router.Add("GET /v1/nodes", [&context](const http::Request& request, const PathParams&) {
    return ListNodes(context, request);
  });
  router.Add("GET /v1/nodes/{node_id}",
             [&context](const http::Request& request, const PathParams& params) {
               return ShowNode(context, request, params);
             });
  router.Add("POST /v1/nodes/{node_id}/revoke",
             [&context](const http::Request& request, const PathParams& params) {
               return RevokeNode(context, request, params);
             });
  router.Add("POST /v1/nodes/{node_id}/approve",
             [&context](const http::Request& request, const PathParams& params) {
               return ApproveNode(context, request, params);
             });
  router.Add("GET /v1/ca/certificates", [&context](const http::Request&, const PathParams&) {
    return CaCertificates(context);
  });
  router.Add("GET /v1/ca/crl",
             [&context](const http::Request&, const PathParams&) { return Crl(context); });
}

}  // namespace attest::service::api
