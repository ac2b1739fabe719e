// The policy: GET /v1/policy (reader) and PUT /v1/policy, which needs an
// admin token *and* a signer envelope (purpose policy) by one of the
// configured policy keys over the exact policy bytes, whose serial is above
// the one in force: a stolen token alone cannot change what is trusted, and
// an old signed policy cannot be replayed.
#include "attest/encoding.h"
#include "attest/ledger/kinds.h"
#include "attest/signer/envelope.h"
#include "attest/signer/verify.h"

#include "context.h"

namespace attest::service::api {
namespace {

constexpr std::size_t kMaxPolicyBytes = 1 << 20;
// The policy as a JSON string (escaping at most doubles it) and its envelope.
constexpr std::size_t kPolicyBodyBytes = 2 * kMaxPolicyBytes + 64 * 1024;

Json PolicyJson(const ActivePolicy& active) {
  Result<Json> document = ParseJsonStrict(active.record.document);
  return {{"serial", active.record.serial},
          {"applied_at", FormatRfc3339Utc(active.record.applied_at)},
          {"signed", !active.record.envelope.empty()},
          {"policy", document.ok() ? *document : Json(nullptr)},
          {"approved_runtime_digests", active.effective.runtime.allowed_digests.size() -
                                           std::min(active.effective.runtime.allowed_digests.size(),
                                                    active.policy.runtime.allowed_digests.size())}};
}

http::Response GetPolicy(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kReader)) return ErrorResponse(*denied);
  std::shared_ptr<const ActivePolicy> policy = CurrentPolicy(context);
  if (!policy) return ErrorResponse(NotFound("no policy is in force yet"));
  return JsonResponse(200, PolicyJson(*policy));
}

http::Response PutPolicy(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kAdmin)) return ErrorResponse(*denied);
  if (request.body.size() > 2 * kMaxPolicyBytes) {
    return ErrorResponse({413, "BODY_TOO_LARGE", "a policy is limited to 1 MiB"});
  }
  Result<Json> body = ParseJsonBody(request);
  if (!body.ok()) return ErrorResponse(FromBodyError(body.error()));
  Result<std::string> document = RequireString(*body, "policy");
  if (!document.ok()) return ErrorResponse(FromBodyError(document.error()));
  Result<std::string> envelope_text = RequireString(*body, "envelope");
  if (!envelope_text.ok()) return ErrorResponse(FromBodyError(envelope_text.error()));

  Result<signer::Envelope> envelope = signer::ParseEnvelope(*envelope_text, "envelope");
  if (!envelope.ok())
    return ErrorResponse(BadRequest("ENVELOPE_MALFORMED", envelope.error().message));
  signer::FileDigest digest{Sha256Of(AsBytes(*document)), document->size()};
  signer::VerifyResult verified =
      signer::VerifyEnvelope(*envelope, digest, context.policy_keys, signer::Purpose::kPolicy);
  if (!verified.valid()) {
    return ErrorResponse(
        {403, "POLICY_SIGNATURE_REJECTED",
         std::string(signer::VerifyReasonName(verified.reason)) + ": " + verified.detail});
  }
  Result<verifier::Policy> policy = verifier::ParsePolicy(*document, "policy");
  if (!policy.ok()) return ErrorResponse(BadRequest("POLICY_MALFORMED", policy.error().message));
  std::shared_ptr<const ActivePolicy> current = CurrentPolicy(context);
  if (current && policy->serial <= current->record.serial) {
    return ErrorResponse(Conflict("POLICY_ROLLBACK", "the policy's serial " +
                                                         std::to_string(policy->serial) +
                                                         " is not above the serial in force, " +
                                                         std::to_string(current->record.serial)));
  }
  PolicyRecord record{policy->serial, *document, *envelope_text, context.clock.Now()};
  StoreChange change;
  change.policy = record;
  change.events.push_back({std::string(ledger::kinds::kPolicyApplied),
                           {{"serial", record.serial},
                            {"name", policy->name},
                            {"sha256", HexEncode(AsBytes(digest.sha256))},
                            {"key_id", envelope->key_id}}});
  Result<CommitResult> committed = CommitChange(context, change);
  if (!committed.ok()) {
    if (committed.error().code == ErrorCode::kVerificationFailed) {
      return ErrorResponse(Conflict("POLICY_ROLLBACK", committed.error().message));
    }
    return ErrorResponse(FromError(committed.error()));
  }
  if (Status installed = InstallPolicy(context, record); !installed.ok()) {
    return ErrorResponse(FromError(installed.error()));
  }
  return JsonResponse(200, PolicyJson(*CurrentPolicy(context)));
}

}  // namespace

void AddPolicyRoutes(Router& router, Context& context) {
  router.Add("GET /v1/policy", [&context](const http::Request& request, const PathParams&) {
    return GetPolicy(context, request);
  });
  router.Add(
      "PUT /v1/policy",
      [&context](const http::Request& request, const PathParams&) {
        return PutPolicy(context, request);
      },
      kPolicyBodyBytes);
}

}  // namespace attest::service::api
