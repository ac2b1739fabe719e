// A small synchronous HTTPS client on one keep-alive connection (Boost.Beast):
// what the service tests, the load generator and the CLI commands that talk
// to a running verifier use. It verifies the server's certificate against a
// CA bundle and the host name; there is no way to turn that off.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attest/error.h"

namespace attest::http {

struct ClientOptions {
  std::string host = "127.0.0.1";  // also the name the certificate must carry
  std::uint16_t port = 0;
  std::string ca_bundle_path;  // PEM: what the server's chain must end in
  // Mutual TLS: the client's certificate chain and key (PEM files).
  std::optional<std::string> certificate_chain_path;
  std::optional<std::string> private_key_path;
  std::chrono::milliseconds timeout{30'000};  // per request, connect included
  // The local address to connect from ("127.0.0.2"); the system's choice
  // when unset. Tests use it to be two clients on one loopback.
  std::optional<std::string> local_address;
  // The largest response body read; a longer one fails the request. The
  // service's own clients read ledger exports; attestd sets a few MiB.
  std::uint64_t max_response_bytes = std::uint64_t{256} * 1024 * 1024;
};

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request on the kept-alive connection, reconnecting first if
  // the server closed it. `headers` are extra headers (e.g. Authorization).
  Result<ClientResponse> Send(std::string_view method, std::string_view target,
                              std::string_view body = {},
                              const std::vector<std::pair<std::string, std::string>>& headers = {});
  Result<ClientResponse> Get(std::string_view target,
                             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send("GET", target, {}, headers);
  }
  Result<ClientResponse> Post(
      std::string_view target, std::string_view body,
      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send("POST", target, body, headers);
  }

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attest::http
