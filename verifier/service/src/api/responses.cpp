#include "responses.h"

#include <iostream>

#include "attest/encoding.h"
#include "attest/pg/pg.h"

namespace attest::service::api {
namespace {

// Body errors travel as attest::Error with this prefix and the code after
// it, so the Require* helpers compose with ATTEST_ASSIGN_OR_RETURN.
constexpr std::string_view kBodyErrorPrefix = "body:";

Error BodyFailure(std::string_view code, const std::string& message) {
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(kBodyErrorPrefix) + std::string(code) + ":" + message);
}

}  // namespace

ApiError BadRequest(std::string code, std::string message) {
  return {400, std::move(code), std::move(message)};
}
ApiError NotFound(std::string message) { return {404, "NOT_FOUND", std::move(message)}; }
ApiError Conflict(std::string code, std::string message) {
  return {409, std::move(code), std::move(message)};
}

ApiError FromError(const Error& error) {
  switch (error.code) {
    case ErrorCode::kBusy:
      return {503, "BUSY", "the store is busy; retry", 1};
    case ErrorCode::kIo:
      // PostgreSQL out of reach (a restart, a failover): the store reconnects
      // with backoff. Each commit is one transaction, so nothing is half
      // written; only when the answer to a COMMIT was lost is it unknown
      // whether the whole change was kept.
      if (pg::IsConnectionLost(error)) {
        std::cerr << "verifier: store unavailable: " << error.ToString() << "\n";
        return {503, "STORE_UNAVAILABLE",
                pg::IsCommitOutcomeUnknown(error)
                    ? "the database connection was lost while committing: the change may or may "
                      "not have been kept; read the state, then retry"
                    : "the database cannot be reached now; the request was not carried out; retry "
                      "(evidence with a new challenge)",
                2};
      }
      break;
    case ErrorCode::kNotFound:
      return NotFound(error.message);
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kCorrupt:
      return BadRequest("INVALID_REQUEST", error.message);
    default:
      break;
  }
  std::cerr << "verifier: internal error: " << error.ToString() << "\n";
  return {500, "INTERNAL", "internal error (" + std::string(ErrorCodeName(error.code)) + ")"};
}

http::Response ErrorResponse(const ApiError& error) {
  http::Response response;
  response.status = error.status;
  response.content_type = "application/json";
  Json body = {{"error", {{"code", error.code}, {"message", error.message}}}};
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (error.retry_after_seconds > 0) {
    response.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
  }
  return response;
}

http::Response JsonResponse(int status, const Json& body) {
  http::Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return response;
}

http::Response TextResponse(int status, std::string content_type, std::string body) {
  http::Response response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  return response;
}

Result<Json> ParseJsonBody(const http::Request& request) {
  Result<Json> parsed = ParseJsonStrict(request.body);
  if (!parsed.ok()) return BodyFailure("MALFORMED_JSON", parsed.error().message);
  if (!parsed->is_object()) return BodyFailure("MALFORMED_JSON", "the body must be a JSON object");
  return parsed;
}

Result<std::string> RequireString(const Json& body, std::string_view key) {
  const Json* member = FindMember(body, key);
  if (member == nullptr) return BodyFailure("INVALID_FIELD", std::string(key) + ": missing");
  if (!member->is_string()) {
    return BodyFailure("INVALID_FIELD", std::string(key) + ": must be a string");
  }
  return member->get<std::string>();
}

Result<Bytes> RequireBase64(const Json& body, std::string_view key) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, RequireString(body, key));
  Result<Bytes> decoded = Base64Decode(text);
  if (!decoded.ok()) {
    return BodyFailure("MALFORMED_BASE64", std::string(key) + ": " + decoded.error().message);
  }
  return decoded;
}

ApiError FromBodyError(const Error& error) {
  std::string_view message = error.message;
  if (error.code == ErrorCode::kInvalidArgument && message.starts_with(kBodyErrorPrefix)) {
    message.remove_prefix(kBodyErrorPrefix.size());
    std::size_t colon = message.find(':');
    if (colon != std::string_view::npos) {
      return BadRequest(std::string(message.substr(0, colon)),
                        std::string(message.substr(colon + 1)));
    }
  }
  return FromError(error);
}

}  // namespace attest::service::api
