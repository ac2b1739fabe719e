#include "attest/http/client.h"

#include <algorithm>
#include <cctype>

#include "tls.h"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace attest::http {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// A timeout is kIo too; its message says so ("The socket was closed due to
// a timeout").
Error TransportError(std::string_view action, const beast::error_code& ec) {
  return MakeError(ErrorCode::kIo, std::string(action) + ": " + ec.message());
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::unique_ptr<net::ssl::context> tls;
  net::io_context io;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  bool reused = false;  // the connection already carried a request

  // Runs the async operations started on `io` until they finish. Each one
  // is bounded by the stream's expiry, so this returns in time.
  void Run() {
    io.restart();
    io.run();
  }

  void Disconnect() {
    if (!stream) return;
    beast::error_code ignored;
    beast::get_lowest_layer(*stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*stream).close();
    stream.reset();
    buffer.clear();
  }

  Status BindLocal(const std::string& address, const tcp::endpoint& remote) {
    beast::error_code ec;
    net::ip::address local = net::ip::make_address(address, ec);
    if (ec) return TransportError("local address " + address, ec);
    tcp::socket& socket = beast::get_lowest_layer(*stream).socket();
    socket.open(remote.protocol(), ec);
    if (!ec) socket.bind(tcp::endpoint(local, 0), ec);
    if (ec) return TransportError("bind to " + address, ec);
    return OkStatus();
  }

  Status Open(Clock::time_point deadline) {
    Disconnect();
    std::string where = options.host + ":" + std::to_string(options.port);
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(options.host, std::to_string(options.port),
                                      tcp::resolver::numeric_service, ec);
    if (ec) return TransportError("resolve " + where, ec);
    stream.emplace(io, *tls);
    ATTEST_RETURN_IF_ERROR(ExpectServerName(stream->native_handle(), options.host));
    beast::get_lowest_layer(*stream).expires_at(deadline);
    if (options.local_address && !endpoints.empty()) {
      // One endpoint, connected from a bound socket (a range would reopen it).
      ATTEST_RETURN_IF_ERROR(BindLocal(*options.local_address, endpoints.begin()->endpoint()));
      beast::get_lowest_layer(*stream).async_connect(
          endpoints.begin()->endpoint(), [&ec](beast::error_code result) { ec = result; });
    } else {
      beast::get_lowest_layer(*stream).async_connect(
          endpoints, [&ec](beast::error_code result, const tcp::endpoint&) { ec = result; });
    }
    Run();
    if (ec) return TransportError("connect to " + where, ec);
    // A request of several writes (headers, body records) must not wait on
    // Nagle for the server's delayed ACK (~40 ms on Linux).
    beast::get_lowest_layer(*stream).socket().set_option(tcp::no_delay(true), ec);
    if (ec) return TransportError("set TCP_NODELAY on " + where, ec);
    stream->async_handshake(net::ssl::stream_base::client,
                            [&ec](beast::error_code result) { ec = result; });
    Run();
    if (ec) {
      Disconnect();
      return TransportError("TLS handshake with " + where, ec);
    }
    reused = false;
    return OkStatus();
  }

  // One exchange on the open connection. `*nothing_received` tells the
  // caller whether the server closed before answering at all.
  Result<ClientResponse> Exchange(bhttp::request<bhttp::string_body>& request,
                                  Clock::time_point deadline, bool* nothing_received) {
    *nothing_received = true;
    beast::error_code ec;
    beast::get_lowest_layer(*stream).expires_at(deadline);
    bhttp::async_write(*stream, request,
                       [&ec](beast::error_code result, std::size_t) { ec = result; });
    Run();
    if (ec) return TransportError("send request", ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_response_bytes);
    bhttp::async_read(*stream, buffer, parser,
                      [&ec](beast::error_code result, std::size_t) { ec = result; });
    Run();
    *nothing_received = !parser.got_some();
    if (ec) return TransportError("read response", ec);
    auto& message = parser.get();
    ClientResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (name == "content-type") response.content_type = std::string(field.value());
      response.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    response.body = std::move(message.body());
    if (!message.keep_alive()) Disconnect();
    reused = true;
    return response;
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() { impl_->Disconnect(); }

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  ATTEST_ASSIGN_OR_RETURN(impl->tls,
                          MakeClientContext({options.ca_bundle_path, options.certificate_chain_path,
                                             options.private_key_path}));
  ATTEST_RETURN_IF_ERROR(impl->Open(Clock::now() + options.timeout));
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Result<ClientResponse> Client::Send(
    std::string_view method, std::string_view target, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  Impl& impl = *impl_;
  auto deadline = Clock::now() + impl.options.timeout;
  bhttp::request<bhttp::string_body> request;
  request.method_string(beast::string_view(method.data(), method.size()));
  request.target(beast::string_view(target.data(), target.size()));
  request.version(11);
  request.set(bhttp::field::host, impl.options.host);
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() && request.find(bhttp::field::content_type) == request.end()) {
    request.set(bhttp::field::content_type, "application/json");
  }
  request.body() = std::string(body);
  request.keep_alive(true);
  request.prepare_payload();

  if (!impl.stream) ATTEST_RETURN_IF_ERROR(impl.Open(deadline));
  bool was_reused = impl.reused;
  bool nothing_received = false;
  auto response = impl.Exchange(request, deadline, &nothing_received);
  if (response.ok()) return response;
  impl.Disconnect();
  // A kept-alive connection the server closed meanwhile (idle timeout,
  // drain) fails before any byte of an answer: send once more on a new one.
  if (!was_reused || !nothing_received || Clock::now() >= deadline) return response;
  ATTEST_RETURN_IF_ERROR(impl.Open(deadline));
  response = impl.Exchange(request, deadline, &nothing_received);
  if (!response.ok()) impl.Disconnect();
  return response;
}

}  // namespace attest::http
