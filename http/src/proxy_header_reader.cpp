#include "proxy_header_reader.h"

#include "session.h"
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>

namespace attest::http {
namespace net = boost::asio;

ProxyHeaderReader::ProxyHeaderReader(net::ip::tcp::socket socket,
                                     std::shared_ptr<ServerState> state, ConnectionSlot slot,
                                     std::string proxy)
    : socket_(std::move(socket)),
      state_(std::move(state)),
      slot_(std::move(slot)),
      proxy_(std::move(proxy)),
      deadline_(socket_.get_executor()),
      handshake_deadline_(DeadlineAfter(state_->options.handshake_timeout)) {}

// The slot goes back first, as a Session's: once open_connections() stops
// counting this connection, its share is free.
ProxyHeaderReader::~ProxyHeaderReader() {
  slot_.Release();
  state_->UnregisterPending(this);
}

void ProxyHeaderReader::Start() {
  state_->RegisterPending(shared_from_this());
  net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    if (self->state_->draining) return self->Close();
    self->deadline_.expires_at(self->handshake_deadline_);
    self->deadline_.async_wait(
        [weak = std::weak_ptr<ProxyHeaderReader>(self)](boost::system::error_code ec) {
          if (ec) return;  // cancelled: the header came in time
          if (auto reader = weak.lock()) reader->Close();
        });
    // Exactly the fixed part, then exactly what it announces: whatever
    // follows is the client's TLS, which the Session reads.
    net::async_read(
        self->socket_, net::buffer(self->header_.data(), kProxyHeaderFixedBytes),
        [self](boost::system::error_code ec, std::size_t bytes) { self->OnFixed(ec, bytes); });
  });
}

void ProxyHeaderReader::PostClose() {
  net::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

// A read that completed just as the deadline closed the socket: closed.
void ProxyHeaderReader::OnFixed(boost::system::error_code ec, std::size_t) {
  if (ec || !socket_.is_open()) return Close();
  Result<std::size_t> rest =
      ProxyHeaderRestLength(ByteView(header_.data(), kProxyHeaderFixedBytes));
  if (!rest.ok()) return Close();
  net::async_read(socket_, net::buffer(header_.data() + kProxyHeaderFixedBytes, *rest),
                  [self = shared_from_this(), rest = *rest](boost::system::error_code read_ec,
                                                            std::size_t bytes) {
                    self->OnRest(rest, read_ec, bytes);
                  });
}

void ProxyHeaderReader::OnRest(std::size_t rest, boost::system::error_code ec, std::size_t) {
  if (ec || !socket_.is_open()) return Close();
  deadline_.cancel();
  Result<ProxyHeader> header =
      ParseProxyHeader(ByteView(header_.data(), kProxyHeaderFixedBytes + rest));
  if (!header.ok() || state_->draining) return Close();
  if (!state_->Readmit(slot_, header->client_address.value_or(proxy_))) return Close();
  std::make_shared<Session>(std::move(socket_), state_, std::move(slot_))
      ->Start(handshake_deadline_);
}

void ProxyHeaderReader::Close() {
  deadline_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace attest::http
