// Enrollment (docs/protocol.md §3): POST /v1/enrollments checks the EK (its
// certificate against the TPM CA bundle, or the node id on the operator's
// allowlist) and the AK's attributes, and wraps a random secret to the EK
// for the AK's name; POST /v1/enrollments/{id}/activate takes the secret
// back, once, and only then binds the AK to the node id.
#include <openssl/rand.h>

#include "attest/encoding.h"
#include "attest/ledger/kinds.h"
#include "attest/sha256.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/make_credential.h"

#include "context.h"

namespace attest::service::api {
namespace {

constexpr std::uint32_t kMaxActivationAttempts = 3;
constexpr std::size_t kMaxHostnameBytes = 253;

Bytes RandomBytes(std::size_t size) {
  Bytes bytes(size);
  if (RAND_bytes(bytes.data(), static_cast<int>(size)) != 1) std::abort();
  return bytes;
}

struct EnrollmentRequest {
  std::string hostname;
  Bytes ek_public;
  std::optional<Bytes> ek_certificate;
  Bytes ak_public;
};

Result<EnrollmentRequest> ReadEnrollmentRequest(const http::Request& request) {
  ATTEST_ASSIGN_OR_RETURN(Json body, ParseJsonBody(request));
  for (const auto& [key, value] : body.items()) {
    if (key != "hostname" && key != "ek_public" && key != "ek_certificate" && key != "ak_public") {
      return MakeError(ErrorCode::kInvalidArgument,
                       "body:INVALID_FIELD:" + key + ": unknown member");
    }
  }
  EnrollmentRequest parsed;
  ATTEST_ASSIGN_OR_RETURN(parsed.hostname, RequireString(body, "hostname"));
  if (parsed.hostname.size() > kMaxHostnameBytes) {
    return MakeError(ErrorCode::kInvalidArgument, "body:INVALID_FIELD:hostname: too long");
  }
  ATTEST_ASSIGN_OR_RETURN(parsed.ek_public, RequireBase64(body, "ek_public"));
  ATTEST_ASSIGN_OR_RETURN(parsed.ak_public, RequireBase64(body, "ak_public"));
  if (FindMember(body, "ek_certificate") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(parsed.ek_certificate, RequireBase64(body, "ek_certificate"));
  }
  return parsed;
}

// The EK is acceptable: its certificate chains to the operator's TPM CAs,
// or (without a certificate) its node id is on the allowlist.
std::optional<ApiError> CheckEndorsement(Context& context, const EnrollmentRequest& request,
                                         const std::string& node_id) {
  if (request.ek_certificate && context.ek_bundle) {
    auto verified = verifier::VerifyEkCertificate(*request.ek_certificate, request.ek_public,
                                                  *context.ek_bundle, context.clock.Now());
    if (!verified.ok()) {
      return ApiError{403, "EK_CERTIFICATE_REJECTED", verified.error().message};
    }
    return std::nullopt;
  }
  if (context.ek_allowlist.contains(node_id)) return std::nullopt;
  return ApiError{
      403, "EK_NOT_ALLOWED",
      request.ek_certificate
          ? "no TPM CA bundle is configured to check the EK certificate, and node " + node_id +
                " is not on the EK allowlist"
          : "the TPM has no EK certificate and node " + node_id + " is not on the EK allowlist"};
}

// A known node may enroll again with its own AK; with another AK only in
// the window an operator opened (`verifier node allow-reenroll`).
std::optional<ApiError> CheckReenrollment(const std::optional<NodeRecord>& node,
                                          const Bytes& ak_public, TimePoint now) {
  if (!node || node->ak_public == ak_public) return std::nullopt;
  if (node->reenroll_allowed_until && *node->reenroll_allowed_until > now) return std::nullopt;
  return Conflict("REENROLL_NOT_ALLOWED",
                  "node " + node->node_id +
                      " is enrolled with another AK; an operator must allow re-enrollment "
                      "(verifier node allow-reenroll)");
}

http::Response Enroll(Context& context, const http::Request& request) {
  const TimePoint now = context.clock.Now();
  if (auto limited = Limit(context.by_address, request.client_address, now)) {
    return ErrorResponse(*limited);
  }
  Result<EnrollmentRequest> parsed = ReadEnrollmentRequest(request);
  if (!parsed.ok()) return ErrorResponse(FromBodyError(parsed.error()));
  Result<TPM2B_PUBLIC> ek = tpm::ParsePublic(parsed->ek_public);
  if (!ek.ok()) return ErrorResponse(BadRequest("EK_MALFORMED", ek.error().message));
  Result<std::string> node_id = tpm::NodeId(ek->publicArea);
  if (!node_id.ok()) return ErrorResponse(BadRequest("EK_MALFORMED", node_id.error().message));
  if (auto limited = Limit(context.by_node, *node_id, now)) return ErrorResponse(*limited);
  if (auto refused = CheckEndorsement(context, *parsed, *node_id)) return ErrorResponse(*refused);
  Result<verifier::AttestationKey> ak = verifier::ParseAttestationKey(parsed->ak_public);
  if (!ak.ok()) return ErrorResponse(BadRequest("AK_REJECTED", ak.error().message));

  Result<std::optional<NodeRecord>> existing = context.store->GetNode(*node_id);
  if (!existing.ok()) return ErrorResponse(FromError(existing.error()));
  if (auto refused = CheckReenrollment(*existing, parsed->ak_public, now)) {
    return ErrorResponse(*refused);
  }

  Bytes secret = RandomBytes(32);
  Result<verifier::Credential> credential =
      verifier::MakeCredential(parsed->ek_public, secret, ak->name);
  if (!credential.ok()) {
    return ErrorResponse(BadRequest("EK_UNSUPPORTED", credential.error().message));
  }
  EnrollmentRecord record;
  record.enrollment_id = HexEncode(RandomBytes(16));
  record.node_id = *node_id;
  record.hostname = parsed->hostname;
  record.ek_public = parsed->ek_public;
  record.ek_certificate = parsed->ek_certificate;
  record.ak_public = parsed->ak_public;
  Sha256Digest digest = Sha256Of(secret);
  record.secret_digest.assign(digest.begin(), digest.end());
  record.created_at = now;
  record.expires_at = now + context.config.enrollment_lifetime;
  StoreChange change;
  change.enrollment = record;
  if (auto committed = CommitChange(context, change); !committed.ok()) {
    return ErrorResponse(FromError(committed.error()));
  }
  return JsonResponse(201, {{"enrollment_id", record.enrollment_id},
                            {"node_id", record.node_id},
                            {"credential_blob", Base64Encode(credential->credential_blob)},
                            {"encrypted_secret", Base64Encode(credential->encrypted_secret)},
                            {"expires_at", FormatRfc3339Utc(record.expires_at)}});
}

// The node record an activation makes: new, the same AK again, or (in the
// operator's window) a new AK, which voids what the old one vouched for.
NodeRecord ActivatedNode(Context& context, const EnrollmentRecord& enrollment,
                         const std::optional<NodeRecord>& existing, TimePoint now) {
  NodeRecord node;
  if (existing) node = *existing;
  const bool new_key = existing && existing->ak_public != enrollment.ak_public;
  node.node_id = enrollment.node_id;
  node.hostname = enrollment.hostname;
  node.ek_public = enrollment.ek_public;
  node.ek_certificate = enrollment.ek_certificate;
  node.ak_public = enrollment.ak_public;
  if (!existing || new_key) {
    node.state =
        context.config.require_approval ? NodeState::kPendingApproval : NodeState::kEnrolled;
    node.enrolled_at = now;
    node.last_clock.reset();
    node.last_reset_count.reset();
    node.last_restart_count.reset();
    node.boot_cache.reset();
    node.runtime_cache.reset();
    node.reenroll_allowed_until.reset();
  }
  return node;
}

// One read-decide-commit pass of an activation. Its commit is
// compare-and-set on the enrollment (and node) versions it read: kBusy
// means another request changed them in between, and the caller runs the
// pass again on what that request wrote.
Result<http::Response> ActivateOnce(Context& context, const std::string& id, const Bytes& secret,
                                    TimePoint now, bool charge_node) {
  Result<std::optional<EnrollmentRecord>> found = context.store->GetEnrollment(id);
  if (!found.ok()) return ErrorResponse(FromError(found.error()));
  if (!*found) return ErrorResponse(NotFound("no enrollment " + id));
  EnrollmentRecord enrollment = **found;
  if (charge_node) {
    if (auto limited = Limit(context.by_node, enrollment.node_id, now)) {
      return ErrorResponse(*limited);
    }
  }
  if (enrollment.state == EnrollmentState::kActivated) {
    return ErrorResponse(Conflict("ENROLLMENT_USED", "enrollment " + id + " was activated"));
  }
  if (enrollment.state == EnrollmentState::kFailed) {
    return ErrorResponse(
        Conflict("ENROLLMENT_FAILED", "enrollment " + id + " failed: enroll again"));
  }
  if (enrollment.expires_at <= now) {
    return ErrorResponse(Conflict("ENROLLMENT_EXPIRED", "enrollment " + id + " expired"));
  }
  Sha256Digest digest = Sha256Of(secret);
  if (!ConstantTimeEquals(AsBytes(digest), enrollment.secret_digest)) {
    ++enrollment.failed_attempts;
    if (enrollment.failed_attempts >= kMaxActivationAttempts) {
      enrollment.state = EnrollmentState::kFailed;
    }
    StoreChange change;
    change.enrollment = enrollment;
    if (auto committed = CommitChange(context, change); !committed.ok()) {
      if (committed.error().code == ErrorCode::kBusy) return committed.error();
      return ErrorResponse(FromError(committed.error()));
    }
    return ErrorResponse(
        {403, "SECRET_MISMATCH",
         "the secret is not the one the credential carried (" +
             std::to_string(kMaxActivationAttempts -
                            std::min(kMaxActivationAttempts, enrollment.failed_attempts)) +
             " attempts left)"});
  }

  Result<std::optional<NodeRecord>> existing = context.store->GetNode(enrollment.node_id);
  if (!existing.ok()) return ErrorResponse(FromError(existing.error()));
  if (auto refused = CheckReenrollment(*existing, enrollment.ak_public, now)) {
    return ErrorResponse(*refused);
  }
  const bool new_key = *existing && (*existing)->ak_public != enrollment.ak_public;
  NodeRecord node = ActivatedNode(context, enrollment, *existing, now);
  enrollment.state = EnrollmentState::kActivated;

  Result<verifier::AttestationKey> ak = verifier::ParseAttestationKey(enrollment.ak_public);
  StoreChange change;
  change.enrollment = enrollment;
  change.node = node;
  Json payload = {{"node_id", node.node_id},
                  {"hostname", node.hostname},
                  {"enrollment_id", enrollment.enrollment_id},
                  {"ak_name", ak.ok() ? HexEncode(ak->name) : ""},
                  {"ek_certificate", enrollment.ek_certificate.has_value()},
                  {"state", NodeStateName(node.state)},
                  {"reenrolled", new_key}};
  change.events.push_back({std::string(ledger::kinds::kNodeEnrolled), payload});
  if (new_key) {
    // What the old AK vouched for is void.
    if (Status revoked =
            RevokeCertificatesIn(context, change, node.node_id, now, "re-enrolled with a new AK");
        !revoked.ok()) {
      return ErrorResponse(FromError(revoked.error()));
    }
  }
  Result<CommitResult> committed = CommitChange(context, change);
  if (!committed.ok()) {
    if (committed.error().code == ErrorCode::kBusy) return committed.error();
    return ErrorResponse(FromError(committed.error()));
  }
  NotifyStateChange(context, node, *existing ? (*existing)->state : NodeState::kEnrolled,
                    "enrolled");
  return JsonResponse(200, {{"node_id", node.node_id}, {"state", NodeStateName(node.state)}});
}

http::Response Activate(Context& context, const http::Request& request, const PathParams& params) {
  const TimePoint now = context.clock.Now();
  if (auto limited = Limit(context.by_address, request.client_address, now)) {
    return ErrorResponse(*limited);
  }
  const std::string& id = params.at("enrollment_id");
  Result<Json> body = ParseJsonBody(request);
  if (!body.ok()) return ErrorResponse(FromBodyError(body.error()));
  Result<Bytes> secret = RequireBase64(*body, "secret");
  if (!secret.ok()) return ErrorResponse(FromBodyError(secret.error()));
  // Each lost race means another request committed a change: an enrollment
  // changes at most kMaxActivationAttempts + 1 times, and the margin is for
  // the node's own version (a re-enrolling node is still being attested).
  constexpr int kPasses = 8;
  Error busy = MakeError(ErrorCode::kBusy, "enrollment " + id + " is changing");
  for (int pass = 0; pass < kPasses; ++pass) {
    Result<http::Response> answered = ActivateOnce(context, id, *secret, now, pass == 0);
    if (answered.ok()) return std::move(answered).value();
    busy = answered.error();
  }
  return ErrorResponse(FromError(busy));
}

}  // namespace

void AddEnrollmentRoutes(Router& router, Context& context) {
  router.Add("POST /v1/enrollments", [&context](const http::Request& request, const PathParams&) {
    return Enroll(context, request);
  });
  router.Add("POST /v1/enrollments/{enrollment_id}/activate",
             [&context](const http::Request& request, const PathParams& params) {
               return Activate(context, request, params);
             });
}

}  // namespace attest::service::api
