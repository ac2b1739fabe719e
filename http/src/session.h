// One accepted connection of the server: TLS handshake, then requests read
// under the header, body and idle deadlines and limits, each answered by the
// handler, on the connection's own strand. Internal to attest_http.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "server_state.h"
#include "target.h"
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace attest::http {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `slot` is the connection's admission (ServerState::Admit); its address
  // is the client's, as Request::client_address.
  Session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerState> state,
          ConnectionSlot slot);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Registers with the state and starts the handshake, which must end by
  // `handshake_deadline` (default: handshake_timeout from now; a relayed
  // connection's began with its PROXY header).
  void Start(std::optional<std::chrono::steady_clock::time_point> handshake_deadline = {});
  // From any thread. Drain: close now if between requests, else after the
  // response in progress (which then says "Connection: close"). Cut: close
  // now, whatever is in progress.
  void PostDrain();
  void PostCut();

 private:
  // Where the connection is; Drain closes the ones not in a request.
  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing };

  void OnHandshake(boost::beast::error_code ec);
  void WaitForRequest(bool first);
  void OnFirstBytes(bool first, boost::beast::error_code ec, std::size_t bytes);
  void ReadHeader(std::chrono::steady_clock::time_point deadline);
  void OnHeader(boost::beast::error_code ec, std::size_t bytes);
  // The smaller of max_body_bytes and the route's limit (options.body_limit).
  std::size_t BodyLimit() const;
  void ReadBody();
  void OnBody(boost::beast::error_code ec, std::size_t bytes);
  // Maps a read error to a response (400, 413, 431) or a silent close.
  void OnReadError(boost::beast::error_code ec);
  void Handle();
  void SendError(int status, const char* code, const char* message);
  void Send(bool keep_alive);
  void OnWrite(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void Shutdown();
  // After an error answer to a request whose body may be unread: reads and
  // drops what the client still sends, briefly, before closing.
  void Linger();
  void DropSome();
  void Close();
  void OnDrain();

  std::shared_ptr<ServerState> state_;
  ConnectionSlot slot_;  // released by ~Session
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<DecodedTarget> target_;  // of the request being read, once its header is in
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  std::optional<std::string> client_certificate_pem_;
  Phase phase_ = Phase::kHandshake;
  bool closed_ = false;
  bool linger_ = false;      // the next close follows an error answer
  std::size_t dropped_ = 0;  // bytes Linger read and dropped
};

}  // namespace attest::http
