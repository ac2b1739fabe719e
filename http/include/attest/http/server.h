// The verifier's HTTPS server (Boost.Beast over asio, OpenSSL): TLS 1.2 and
// 1.3 only, keep-alive, per-connection header, body and idle timeouts, a
// body limit answered 413, a connection limit, and a graceful drain. Why not
// cpprestsdk's http_listener: README.md, design notes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/error.h"
#include "attest/http/message.h"

namespace attest::http {

struct ServerOptions {
  // "HOST:PORT"; port 0 asks the kernel for one (tests), port() tells which.
  // IPv6 as "[::1]:8443".
  std::string listen = "127.0.0.1:8443";
  std::string certificate_chain_path;  // PEM: the server certificate, then its chain
  std::string private_key_path;        // PEM, read once at start
  // PEM bundle: when set, clients may present a certificate chaining to it
  // (Request::client_certificate_pem); one that does not chain is refused in
  // the handshake. Clients without a certificate are still served.
  std::optional<std::string> client_ca_path;
  std::size_t max_connections = 1024;  // past it, new connections are closed at once
  // Open connections one client address may hold (IPv6: the whole address,
  // not its /64); past it its new connections are closed at once, so one
  // client cannot take every slot of max_connections.
  std::size_t max_connections_per_address = 64;
  std::size_t max_header_bytes = 16 * 1024;       // 431 past it
  std::size_t max_body_bytes = 17 * 1024 * 1024;  // 413 past it (evidence is <= 16 MiB)
  // When set, the body limit of one request from its method and decoded
  // path (the handler's route table knows which route takes large bodies),
  // asked once the header is in and before any of the body is read; the
  // server applies the smaller of it and max_body_bytes.
  std::function<std::size_t(std::string_view method, std::string_view path)> body_limit;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds header_timeout{10'000};  // whole header must arrive in this
  std::chrono::milliseconds body_timeout{30'000};    // whole body must arrive in this
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  unsigned threads = 2;                              // asio threads running handlers
  // Load balancers, as addresses or CIDR prefixes, whose connections begin
  // with a PROXY protocol v2 header (proxy_protocol.h): the client is then
  // the address it names (Request::client_address, the per-address limit),
  // and a connection from them without a valid one within
  // handshake_timeout (header and TLS handshake together) is closed
  // unanswered. One proxy may have max(max_connections_per_address,
  // max_connections / 2) connections awaiting their header. Others are
  // never read for one.
  std::vector<std::string> trusted_proxies;
};

class Server {
 public:
  // Binds, loads the certificate and key, and starts serving on its own
  // threads. Errors name the file or the address that failed.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, Handler handler);
  ~Server();  // Drain(0) if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  // Stops accepting, lets in-flight requests finish and be answered (with
  // "Connection: close"), closes idle connections, and returns when every
  // connection is closed or `deadline` passed (then the rest are cut).
  void Drain(std::chrono::milliseconds deadline);
  std::size_t open_connections() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attest::http
