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

VerifierClient::VerifierClient(const AttestdConfig& config) : endpoints_(config.verifiers) {
  if (endpoints_.empty()) endpoints_.push_back(VerifierEndpoint{});  // url() stays valid
  options_.ca_bundle_path = config.verifier_ca_bundle;
  options_.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.request_timeout);
  options_.max_response_bytes = kMaxVerifierResponseBytes;
}

void VerifierClient::MoveToNextVerifier() {
  client_.reset();
  current_ = (current_ + 1) % endpoints_.size();
}

Status VerifierClient::Connect() {
  std::string failures;
  for (std::size_t tried = 0; tried < endpoints_.size(); ++tried) {
    options_.host = endpoints_[current_].host;
    options_.port = endpoints_[current_].port;
    Result<std::unique_ptr<http::Client>> connected = http::Client::Connect(options_);
    if (connected.ok()) {
      client_ = std::move(connected).value();
      return OkStatus();
    }
    if (!failures.empty()) failures += "; ";
    failures += endpoints_[current_].url + ": " + connected.error().message;
    MoveToNextVerifier();
  }
  return MakeError(ErrorCode::kIo, (endpoints_.size() == 1 ? "cannot reach the verifier at "
                                                           : "cannot reach any verifier: ") +
                                       failures);
}

Result<ApiResponse> VerifierClient::Send(std::string_view method, std::string_view target,
                                         std::string_view body) {
  if (before_request_) before_request_();
  if (!client_) ATTEST_RETURN_IF_ERROR(Connect());
  const std::string at = url();
  // A body goes as application/json (the client's default).
  Result<http::ClientResponse> response = client_->Send(method, target, body);
  if (!response.ok()) {
    MoveToNextVerifier();
    return MakeError(ErrorCode::kIo, std::string(method) + " " + std::string(target) + " at " + at +
                                         ": " + response.error().message);
  }
  if (response->status == 503) MoveToNextVerifier();
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
