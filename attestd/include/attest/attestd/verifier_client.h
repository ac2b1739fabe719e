// attestd's side of the verifier's /v1 API (docs/protocol.md): one
// kept-alive HTTPS connection (attest_http's client, Boost.Beast) that
// verifies the verifier's certificate and host name against the configured
// CA bundle. Connects lazily and again after any transport failure.
//
// Several verifiers on one database: the client stays with the verifier
// that answers. A request that cannot connect is tried at the next one at
// once (nothing was sent, so nothing can happen twice); a request that
// failed after it was sent, or that the verifier answered 503 (it cannot
// reach its database), fails, and the next request goes to the next
// verifier. Those need the whole step again: a challenge from one verifier
// is good at another only because they share the database.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attest/attestd/config.h"
#include "attest/error.h"
#include "attest/http/client.h"
#include "attest/json.h"

namespace attest::attestd {

// An answer the API gave: its status and body, parsed when it is JSON.
struct ApiResponse {
  int status = 0;
  Json body;  // null when the body was not JSON
  // The API's error code ("NONCE_EXPIRED", ...) and message for a
  // non-2xx answer, empty otherwise.
  std::string error_code;
  std::string error_message;
};

class VerifierClient {
 public:
  explicit VerifierClient(const AttestdConfig& config);

  // POSTs `body` (JSON) to `target`. Transport failures (cannot connect,
  // TLS refused, timeout, connection lost mid-request) are errors (kIo);
  // any HTTP answer, 4xx and 5xx included, comes back as an ApiResponse for
  // the caller to judge.
  Result<ApiResponse> Post(std::string_view target, std::string_view body);
  Result<ApiResponse> Get(std::string_view target);

  // Drops the connection (after SIGHUP, or when the verifier misbehaved).
  void Disconnect() { client_.reset(); }
  // Called before every request: the daemon pings systemd's watchdog, so a
  // step of several slow requests is not mistaken for a hang.
  void SetBeforeRequest(std::function<void()> hook) { before_request_ = std::move(hook); }
  // The verifier the next request goes to.
  const std::string& url() const { return endpoints_[current_].url; }

 private:
  Result<ApiResponse> Send(std::string_view method, std::string_view target, std::string_view body);
  // Connects to the current verifier, or to the next ones in turn.
  Status Connect();
  void MoveToNextVerifier();

  http::ClientOptions options_;
  std::vector<VerifierEndpoint> endpoints_;
  std::size_t current_ = 0;
  std::unique_ptr<http::Client> client_;
  std::function<void()> before_request_;
};

// The most attestd reads from the verifier in one answer: a verdict and a
// certificate chain are a few KiB, so anything near this is an attack.
inline constexpr std::uint64_t kMaxVerifierResponseBytes = std::uint64_t{4} * 1024 * 1024;

// "POST /v1/...: HTTP 409 ENROLLMENT_CONFLICT: message": one line for logs.
std::string DescribeFailure(std::string_view what, const ApiResponse& response);

}  // namespace attest::attestd
