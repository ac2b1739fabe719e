// Tokens (admin: POST /v1/tokens shows the token once, DELETE
// /v1/tokens/{token_id} revokes it), and the public GET /healthz, GET
// /metrics and GET /v1/webhooks/key.
#include "attest/encoding.h"
#include "attest/ledger/kinds.h"
#include "attest/service/tokens.h"
#include "attest/signer/public_key.h"

#include "context.h"

namespace attest::service::api {
namespace {

http::Response CreateToken(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kAdmin)) return ErrorResponse(*denied);
  Result<Json> body = ParseJsonBody(request);
  if (!body.ok()) return ErrorResponse(FromBodyError(body.error()));
  Result<std::string> role_name = RequireString(*body, "role");
  if (!role_name.ok()) return ErrorResponse(FromBodyError(role_name.error()));
  std::optional<Role> role = ParseRole(*role_name);
  if (!role) return ErrorResponse(BadRequest("INVALID_FIELD", "role: reader, operator or admin"));
  std::string label;
  if (FindMember(*body, "label") != nullptr) {
    Result<std::string> text = RequireString(*body, "label");
    if (!text.ok()) return ErrorResponse(FromBodyError(text.error()));
    label = *text;
  }
  NewToken token = GenerateToken(*role, label, context.clock.Now());
  StoreChange change;
  change.token = token.record;
  change.events.push_back(
      {std::string(ledger::kinds::kTokenCreated),
       {{"token_id", token.record.token_id}, {"role", RoleName(*role)}, {"label", label}}});
  if (auto committed = CommitChange(context, change); !committed.ok()) {
    return ErrorResponse(FromError(committed.error()));
  }
  return JsonResponse(201, {{"token_id", token.record.token_id},
                            {"role", RoleName(*role)},
                            {"label", label},
                            {"token", token.token}});
}

http::Response RevokeToken(Context& context, const http::Request& request,
                           const PathParams& params) {
  if (auto denied = Authorize(context, request, Role::kAdmin)) return ErrorResponse(*denied);
  const std::string& id = params.at("token_id");
  auto record = context.store->GetToken(id);
  if (!record.ok()) return ErrorResponse(FromError(record.error()));
  if (!*record) return ErrorResponse(NotFound("no token " + id));
  if ((*record)->revoked_at) return JsonResponse(200, {{"token_id", id}, {"revoked", true}});
  TokenRecord revoked = **record;
  revoked.revoked_at = context.clock.Now();
  StoreChange change;
  change.token = revoked;
  change.events.push_back({std::string(ledger::kinds::kTokenRevoked),
                           {{"token_id", id}, {"role", RoleName(revoked.role)}}});
  if (auto committed = CommitChange(context, change); !committed.ok()) {
    return ErrorResponse(FromError(committed.error()));
  }
  return JsonResponse(200, {{"token_id", id}, {"revoked", true}});
}

http::Response ListTokens(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kAdmin)) return ErrorResponse(*denied);
  auto tokens = context.store->ListTokens();
  if (!tokens.ok()) return ErrorResponse(FromError(tokens.error()));
  Json items = Json::array();
  for (const TokenRecord& token : *tokens) {
    items.push_back({{"token_id", token.token_id},
                     {"role", RoleName(token.role)},
                     {"label", token.label},
                     {"created_at", FormatRfc3339Utc(token.created_at)},
                     {"revoked", token.revoked_at.has_value()}});
  }
  return JsonResponse(200, {{"tokens", items}});
}

http::Response Health(Context& context) {
  auto counts = context.store->CountNodesByState();
  if (!counts.ok()) return ErrorResponse(FromError(counts.error()));
  return JsonResponse(200, {{"status", "ok"}, {"policy", CurrentPolicy(context) != nullptr}});
}

http::Response MetricsText(Context& context) {
  if (auto counts = context.store->CountNodesByState(); counts.ok()) {
    context.metrics.SetNodes(*counts);
  }
  return TextResponse(200, "text/plain; version=0.0.4", context.metrics.Serialize());
}

http::Response WebhookKey(Context& context) {
  return TextResponse(200, "application/x-pem-file",
                      signer::EncodePublicKeyPem(context.webhooks->public_key()));
}

}  // namespace

void AddAdminRoutes(Router& router, Context& context) {
  router.Add("POST /v1/tokens", [&context](const http::Request& request, const PathParams&) {
    return CreateToken(context, request);
  });
  router.Add("GET /v1/tokens", [&context](const http::Request& request, const PathParams&) {
    return ListTokens(context, request);
  });
  router.Add("DELETE /v1/tokens/{token_id}",
             [&context](const http::Request& request, const PathParams& params) {
               return RevokeToken(context, request, params);
             });
  router.Add("GET /healthz",
             [&context](const http::Request&, const PathParams&) { return Health(context); });
  router.Add("GET /metrics",
             [&context](const http::Request&, const PathParams&) { return MetricsText(context); });
  router.Add("GET /v1/webhooks/key",
             [&context](const http::Request&, const PathParams&) { return WebhookKey(context); });
}

}  // namespace attest::service::api
