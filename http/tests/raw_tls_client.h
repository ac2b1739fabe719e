// A TLS client on a plain blocking socket (OpenSSL, no Beast) that can
// misbehave the ways the server must survive: fixed TLS versions, bytes
// trickled one at a time, bodies cut short, connections left idle.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <openssl/ssl.h>

namespace attest::http::test {

struct RawTlsOptions {
  std::uint16_t port = 0;
  // The client's own address ("127.0.0.2": loopback has all of 127/8), so
  // one test can be several clients; the kernel's choice when empty.
  std::string source_address;
  std::string ca_path;  // the server chain must verify against it
  std::optional<std::string> certificate_path;
  std::optional<std::string> key_path;
  // Exactly this version when set (e.g. TLS1_1_VERSION); 1.2-1.3 otherwise.
  std::optional<int> version;
  std::chrono::milliseconds timeout{3000};  // each read and write
  // Sent in the clear before the handshake: what a load balancer puts
  // first (a PROXY protocol header).
  std::string plain_prefix;
  // Connect and send plain_prefix only, no handshake (a balancer that
  // stalls or sends garbage): Connect returns after the send.
  bool skip_handshake = false;
  // Hold plain_prefix back (MSG_MORE) so it leaves in one segment with the
  // ClientHello, as a balancer's first write may.
  bool prefix_with_client_hello = false;
};

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class RawTlsClient {
 public:
  RawTlsClient() = default;
  ~RawTlsClient();
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;

  // TCP connect and TLS handshake; false (with `error()` set) on failure.
  bool Connect(const RawTlsOptions& options);
  bool Write(std::string_view bytes);
  // Plain bytes on the socket (after a skip_handshake Connect).
  bool SendPlain(std::string_view bytes);
  // Reads one response (Content-Length framed); nullopt on close or error.
  std::optional<RawResponse> ReadResponse();
  // True when the server closes the connection (EOF or reset) within
  // `within`; false if it is still open (or sends data) by then.
  bool WaitClosed(std::chrono::milliseconds within);
  void Close();
  int negotiated_version() const { return ssl_ ? SSL_version(ssl_) : 0; }
  const std::string& error() const { return error_; }

 private:
  bool FillAtLeast(std::size_t bytes);

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string buffered_;
  std::string error_;
};

}  // namespace attest::http::test
