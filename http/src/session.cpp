#include "session.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>

#include "tls.h"
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace attest::http {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// How long a closing connection waits for the client's close_notify.
constexpr std::chrono::milliseconds kShutdownTimeout{1000};
constexpr std::size_t kFirstReadBytes = 4096;
// Closing on a client still sending makes the kernel reset the connection,
// and the client may lose the error answer with it (a 413 before the body).
// So after one the server reads and drops this much, for this long, first.
constexpr std::size_t kLingerBytes = std::size_t{1} << 20;
constexpr std::chrono::milliseconds kLingerTimeout{1000};

std::string ErrorBody(const char* code, const char* message) {
  return std::string(R"({"error":{"code":")") + code + R"(","message":")" + message + R"("}})";
}

std::string_view ToStd(beast::string_view text) { return {text.data(), text.size()}; }

std::string Lower(beast::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Headers the server writes itself: a handler's copy could contradict the
// framing (request smuggling) or the connection's fate.
bool ServerOwnsHeader(std::string_view lower_case_name) {
  return lower_case_name == "content-length" || lower_case_name == "transfer-encoding" ||
         lower_case_name == "connection" || lower_case_name == "content-type";
}

}  // namespace

Session::Session(net::ip::tcp::socket socket, std::shared_ptr<ServerState> state,
                 ConnectionSlot slot)
    : state_(std::move(state)), slot_(std::move(slot)), stream_(std::move(socket), *state_->tls) {}

// The slot goes back first: once open_connections() stops counting this
// connection, its address may connect again.
Session::~Session() {
  slot_.Release();
  state_->Unregister(this);
}

void Session::Start(std::optional<Clock::time_point> handshake_deadline) {
  state_->Register(shared_from_this());
  const Clock::time_point deadline =
      handshake_deadline.value_or(DeadlineAfter(state_->options.handshake_timeout));
  net::dispatch(stream_.get_executor(), [self = shared_from_this(), deadline] {
    if (self->state_->draining) return self->Close();
    beast::get_lowest_layer(self->stream_).expires_at(deadline);
    self->stream_.async_handshake(net::ssl::stream_base::server,
                                  beast::bind_front_handler(&Session::OnHandshake, self));
  });
}

void Session::PostDrain() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->OnDrain(); });
}

void Session::PostCut() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void Session::OnDrain() {
  if (phase_ == Phase::kHandshake || phase_ == Phase::kIdle) Close();
  // kReading, kHandling, kWriting: the request finishes and its response
  // says "Connection: close" (state_->draining); kClosing is on its way.
}

void Session::OnHandshake(beast::error_code ec) {
  if (closed_) return;
  if (ec) return Close();
  client_certificate_pem_ = VerifiedPeerCertificatePem(stream_.native_handle());
  WaitForRequest(/*first=*/true);
}

// Between requests the connection may wait idle_timeout for the first byte
// (header_timeout before the first request: a client that connects and
// says nothing is not idle but slow); from the first byte on, the whole
// header must arrive within header_timeout.
void Session::WaitForRequest(bool first) {
  if (state_->draining) return Close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(state_->options.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(state_->options.max_body_bytes);
  if (buffer_.size() > 0) {  // a pipelined request is already here
    phase_ = Phase::kReading;
    return ReadHeader(Clock::now() + state_->options.header_timeout);
  }
  phase_ = Phase::kIdle;
  auto wait = first ? state_->options.header_timeout : state_->options.idle_timeout;
  beast::get_lowest_layer(stream_).expires_after(wait);
  stream_.async_read_some(
      buffer_.prepare(kFirstReadBytes),
      beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this(), first));
}

void Session::OnFirstBytes(bool first, beast::error_code ec, std::size_t bytes) {
  if (closed_) return;
  if (ec) return Close();  // idle timeout, the client closed, or Drain
  buffer_.commit(bytes);
  phase_ = Phase::kReading;
  // Before the first request the header deadline started at the handshake.
  if (first) return ReadHeader(Clock::time_point::max());
  ReadHeader(Clock::now() + state_->options.header_timeout);
}

void Session::ReadHeader(Clock::time_point deadline) {
  if (deadline != Clock::time_point::max()) {
    beast::get_lowest_layer(stream_).expires_at(deadline);
  }
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
}

void Session::OnHeader(beast::error_code ec, std::size_t) {
  if (closed_) return;
  if (ec) return OnReadError(ec);
  // Only plain "chunked": with another coding last the body's end is
  // unknowable (RFC 9112 §6.3), and none is decoded here anyway.
  auto coding = parser_->get().find(bhttp::field::transfer_encoding);
  if (coding != parser_->get().end() && !beast::iequals(coding->value(), "chunked")) {
    return SendError(400, "INVALID_ARGUMENT", "only Transfer-Encoding: chunked is accepted");
  }
  target_.reset();
  auto target = DecodeTarget(ToStd(parser_->get().target()));
  if (!target) return SendError(400, "INVALID_ARGUMENT", "the request target is malformed");
  target_ = std::move(target).value();
  std::size_t limit = BodyLimit();
  parser_->body_limit(limit);  // chunks are counted against it as they arrive
  auto length = parser_->content_length();
  if (length && *length > limit) {
    return SendError(413, "BODY_TOO_LARGE", "the request body is over the server's limit");
  }
  if (parser_->is_done()) return Handle();
  beast::get_lowest_layer(stream_).expires_after(state_->options.body_timeout);
  // A client that asked (curl does for large bodies) waits for this before
  // it sends the body; the limits above have passed by now.
  if (beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                            [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                              if (self->closed_) return;
                              if (write_ec) return self->Close();
                              self->ReadBody();
                            });
  }
  ReadBody();
}

std::size_t Session::BodyLimit() const {
  std::size_t limit = state_->options.max_body_bytes;
  if (state_->options.body_limit) {
    limit = std::min(
        limit, state_->options.body_limit(ToStd(parser_->get().method_string()), target_->path));
  }
  return limit;
}

void Session::ReadBody() {
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&Session::OnBody, shared_from_this()));
}

void Session::OnBody(beast::error_code ec, std::size_t) {
  if (closed_) return;
  if (ec) return OnReadError(ec);
  Handle();
}

void Session::OnReadError(beast::error_code ec) {
  if (ec == bhttp::error::header_limit) {
    return SendError(431, "HEADERS_TOO_LARGE", "the request header is over the server's limit");
  }
  if (ec == bhttp::error::body_limit) {
    return SendError(413, "BODY_TOO_LARGE", "the request body is over the server's limit");
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return Close();
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    return SendError(400, "INVALID_ARGUMENT", "the request is not valid HTTP/1.1");
  }
  Close();  // timeout, reset, TLS failure: nobody to answer
}

void Session::Handle() {
  phase_ = Phase::kHandling;
  auto& message = parser_->get();
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = std::move(target_->path);  // OnHeader decoded it
  request.query = std::move(target_->query);
  for (const auto& field : message) {
    request.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.client_address = slot_.address();
  request.client_certificate_pem = client_certificate_pem_;
  bool keep_alive = message.keep_alive();

  Response response;
  try {
    response = state_->handler(request);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http: handler threw on %s %s: %s\n", request.method.c_str(),
                 request.path.c_str(), e.what());
    return SendError(500, "INTERNAL", "the server failed to handle the request");
  } catch (...) {
    std::fprintf(stderr, "http: handler threw on %s %s\n", request.method.c_str(),
                 request.path.c_str());
    return SendError(500, "INTERNAL", "the server failed to handle the request");
  }
  if (response.status < 100 || response.status > 599) {
    std::fprintf(stderr, "http: handler answered status %d\n", response.status);
    return SendError(500, "INTERNAL", "the server failed to handle the request");
  }
  response_ = {};
  response_.version(11);
  response_.result(static_cast<unsigned>(response.status));
  for (auto& [name, value] : response.headers) {
    if (!ServerOwnsHeader(Lower(name)))
      response_.insert(beast::string_view(name), beast::string_view(value));
  }
  response_.set(bhttp::field::content_type, response.content_type.empty()
                                                ? std::string("application/octet-stream")
                                                : response.content_type);
  response_.body() = std::move(response.body);
  Send(keep_alive);
}

void Session::SendError(int status, const char* code, const char* message) {
  response_ = {};
  response_.version(11);
  response_.result(static_cast<unsigned>(status));
  response_.set(bhttp::field::content_type, "application/json");
  response_.body() = ErrorBody(code, message);
  linger_ = true;
  Send(/*keep_alive=*/false);
}

// body_timeout also bounds writing the response: a client that stops
// reading is cut like one that stops sending.
void Session::Send(bool keep_alive) {
  keep_alive = keep_alive && !state_->draining;
  phase_ = Phase::kWriting;
  response_.keep_alive(keep_alive);
  response_.prepare_payload();
  beast::get_lowest_layer(stream_).expires_after(state_->options.body_timeout);
  bhttp::async_write(stream_, response_,
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
}

void Session::OnWrite(bool keep_alive, beast::error_code ec, std::size_t) {
  if (closed_) return;
  if (ec) return Close();
  if (!keep_alive) return linger_ ? Linger() : Shutdown();
  WaitForRequest(/*first=*/false);
}

void Session::Linger() {
  phase_ = Phase::kClosing;
  beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
  buffer_.consume(buffer_.size());
  DropSome();
}

void Session::DropSome() {
  stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                            if (self->closed_) return;
                            self->dropped_ += bytes;
                            // The client closed, went quiet, or sent too much.
                            if (ec || self->dropped_ > kLingerBytes) return self->Close();
                            self->DropSome();
                          });
}

// Sends close_notify and waits briefly for the client's; either way closes.
void Session::Shutdown() {
  phase_ = Phase::kClosing;
  beast::get_lowest_layer(stream_).expires_after(
      std::min<std::chrono::milliseconds>(kShutdownTimeout, state_->options.handshake_timeout));
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  phase_ = Phase::kClosing;
  beast::error_code ignored;
  auto& socket = beast::get_lowest_layer(stream_).socket();
  socket.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(stream_).close();
}

}  // namespace attest::http
