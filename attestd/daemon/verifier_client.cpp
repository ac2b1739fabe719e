#include "attest/attestd/verifier_client.h"

namespace attest::attestd {
namespace {

ApiResponse ToApiResponse(http::ClientResponse response) {
  ApiResponse result;
  result.status = response.status;
  if (response.content_type.rfind("application/json", 0) == 0) {
    Result<Json> json = ParseJsonStrict(response.body);
    if (json.ok()) result.body = std::move(json).value();
  }
  if (result.status / 100 != 2 && result.body.is_object()) {
    const Json* error = FindMember(result.body, "error");
    if (error != nullptr && error->is_object()) {
      const Json* code = FindMember(*error, "code");
      const Json* message = FindMember(*error, "message");
      if (code != nullptr && code->is_string()) result.error_code = code->get<std::string>();
      if (message != nullptr && message->is_string()) {
        result.error_message = message->get<std::string>();
      }
    }
  }
  return result;
}

}  // namespace

VerifierClient::VerifierClient(const AttestdConfig& config) : url_(config.verifier.url) {
  options_.host = config.verifier.host;
  options_.port = config.verifier.port;
  options_.ca_bundle_path = config.verifier_ca_bundle;
  options_.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.request_timeout);
  options_.max_response_bytes = kMaxVerifierResponseBytes;
}

Result<ApiResponse> VerifierClient::Send(std::string_view method, std::string_view target,
                                         std::string_view body) {
  if (before_request_) before_request_();
  if (!client_) {
    Result<std::unique_ptr<http::Client>> connected = http::Client::Connect(options_);
    if (!connected.ok()) {
      return MakeError(ErrorCode::kIo,
                       "cannot reach the verifier at " + url_ + ": " + connected.error().message);
    }
    client_ = std::move(connected).value();
  }
  // A body goes as application/json (the client's default).
  Result<http::ClientResponse> response = client_->Send(method, target, body);
  if (!response.ok()) {
    client_.reset();
    return MakeError(ErrorCode::kIo, std::string(method) + " " + std::string(target) + " at " +
                                         url_ + ": " + response.error().message);
  }
  return ToApiResponse(std::move(response).value());
}

Result<ApiResponse> VerifierClient::Post(std::string_view target, std::string_view body) {
  return Send("POST", target, body);
}

Result<ApiResponse> VerifierClient::Get(std::string_view target) { return Send("GET", target, {}); }

std::string DescribeFailure(std::string_view what, const ApiResponse& response) {
  std::string text = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!response.error_code.empty()) text += " " + response.error_code;
  if (!response.error_message.empty()) text += ": " + response.error_message;
  return text;
}

}  // namespace attest::attestd
