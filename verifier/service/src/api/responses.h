// The service's answers: JSON bodies, and errors as
// {"error": {"code": "...", "message": "..."}} with stable codes and the
// HTTP status each goes with (verifier/README.md lists them).
#pragma once

#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/http/message.h"
#include "attest/json.h"

namespace attest::service::api {

// An error answer: the status, the stable code, a message for people.
struct ApiError {
  int status = 500;
  std::string code;
  std::string message;
  int retry_after_seconds = 0;  // sets Retry-After when > 0
};

ApiError BadRequest(std::string code, std::string message);
ApiError NotFound(std::string message);
ApiError Conflict(std::string code, std::string message);
// An error of the core or the store, answered by its code: kBusy 503,
// kNotFound 404, kInvalidArgument/kCorrupt 400, anything else 500 (whose
// message is logged, not sent).
ApiError FromError(const Error& error);

http::Response ErrorResponse(const ApiError& error);
http::Response JsonResponse(int status, const Json& body);
http::Response TextResponse(int status, std::string content_type, std::string body);

// The request body as one JSON object (strict I-JSON), or 400 MALFORMED_JSON.
Result<Json> ParseJsonBody(const http::Request& request);

// Typed members of a request body, each failure a 400 naming the member:
// MALFORMED_BASE64 for bad base64, INVALID_FIELD for the rest.
Result<std::string> RequireString(const Json& body, std::string_view key);
Result<Bytes> RequireBase64(const Json& body, std::string_view key);
// Carries the ApiError of the Require* functions through attest::Error.
ApiError FromBodyError(const Error& error);

}  // namespace attest::service::api
