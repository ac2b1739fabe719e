#include "raw_tls_client.h"

#include <algorithm>
#include <cctype>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace attest::http::test {
namespace {

std::string OpensslReason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL reason";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

void SetTimeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

RawTlsClient::~RawTlsClient() { Close(); }

void RawTlsClient::Close() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  fd_ = -1;
}

bool RawTlsClient::Connect(const RawTlsOptions& options) {
  Close();
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(options.port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!options.source_address.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (inet_pton(AF_INET, options.source_address.c_str(), &source.sin_addr) != 1 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof(source)) != 0) {
      error_ = "bind to " + options.source_address + " failed";
      return false;
    }
  }
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    error_ = "connect failed";
    return false;
  }
  SetTimeout(fd_, options.timeout);
  for (std::size_t sent = 0; sent < options.plain_prefix.size();) {
    ssize_t n = send(fd_, options.plain_prefix.data() + sent, options.plain_prefix.size() - sent,
                     MSG_NOSIGNAL | (options.prefix_with_client_hello ? MSG_MORE : 0));
    if (n <= 0) {
      error_ = "send the plain prefix failed";
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  if (options.skip_handshake) return true;
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (options.version) {
    // Debian's default security level forbids TLS 1.0/1.1 in the client
    // itself; level 0 lets this client offer them, so a refusal is the
    // server's.
    SSL_CTX_set_security_level(ctx_, 0);
    SSL_CTX_set_cipher_list(ctx_, "DEFAULT@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx_, *options.version);
    SSL_CTX_set_max_proto_version(ctx_, *options.version);
  } else {
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  }
  SSL_CTX_load_verify_file(ctx_, options.ca_path.c_str());
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (options.certificate_path &&
      (SSL_CTX_use_certificate_chain_file(ctx_, options.certificate_path->c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx_, options.key_path->c_str(), SSL_FILETYPE_PEM) != 1)) {
    error_ = "load client certificate: " + OpensslReason();
    return false;
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  if (SSL_connect(ssl_) != 1) {
    error_ = "handshake: " + OpensslReason();
    return false;
  }
  // TLS 1.3 sends the verdict on the client certificate after the
  // handshake: a refusal shows as an alert on the first read. Peek briefly.
  if (options.certificate_path) {
    SetTimeout(fd_, std::chrono::milliseconds(200));
    char byte;
    int got = SSL_peek(ssl_, &byte, 1);
    if (got <= 0 && SSL_get_error(ssl_, got) != SSL_ERROR_WANT_READ) {
      error_ = "after handshake: " + OpensslReason();
      return false;
    }
    ERR_clear_error();
    SetTimeout(fd_, options.timeout);
  }
  return true;
}

bool RawTlsClient::SendPlain(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawTlsClient::Write(std::string_view bytes) {
  if (!ssl_) return false;
  while (!bytes.empty()) {
    int written = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (written <= 0) {
      error_ = "write: " + OpensslReason();
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

bool RawTlsClient::FillAtLeast(std::size_t bytes) {
  while (buffered_.size() < bytes) {
    char chunk[16384];
    int got = SSL_read(ssl_, chunk, sizeof(chunk));
    if (got <= 0) {
      ERR_clear_error();
      return false;
    }
    buffered_.append(chunk, static_cast<std::size_t>(got));
  }
  return true;
}

std::optional<RawResponse> RawTlsClient::ReadResponse() {
  if (!ssl_) return std::nullopt;
  std::size_t end;
  while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (!FillAtLeast(buffered_.size() + 1)) return std::nullopt;
  }
  std::string head = buffered_.substr(0, end);
  buffered_.erase(0, end + 4);
  RawResponse response;
  std::size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  response.status = std::stoi(status_line.substr(9, 3));
  std::size_t position = line_end == std::string::npos ? head.size() : line_end + 2;
  while (position < head.size()) {
    std::size_t next = head.find("\r\n", position);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(position, next - position);
    std::size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    response.headers[name] = value;
    position = next + 2;
  }
  std::size_t length =
      response.headers.count("content-length") ? std::stoul(response.headers["content-length"]) : 0;
  if (!FillAtLeast(length)) return std::nullopt;
  response.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  return response;
}

bool RawTlsClient::WaitClosed(std::chrono::milliseconds within) {
  if (!ssl_ && fd_ >= 0) {  // skip_handshake: the plain socket
    SetTimeout(fd_, within);
    char byte;
    ssize_t got = recv(fd_, &byte, 1, 0);
    if (got > 0) return false;
    return got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
  if (!ssl_) return true;
  SetTimeout(fd_, within);
  char chunk[1024];
  int got = SSL_read(ssl_, chunk, sizeof(chunk));
  if (got > 0) return false;  // the server sent data: not closed
  int reason = SSL_get_error(ssl_, got);
  ERR_clear_error();
  // SSL_ERROR_WANT_READ / SYSCALL with EAGAIN: the timeout, still open.
  if (reason == SSL_ERROR_ZERO_RETURN) return true;
  if (reason == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
  if (reason == SSL_ERROR_WANT_READ) return false;
  return true;  // EOF without close_notify, reset: closed
}

}  // namespace attest::http::test
