// A connection from a trusted proxy before its TLS: reads exactly its PROXY
// protocol v2 header (no byte of the TLS after it), then hands the socket to
// a Session for the client the header names; header and handshake together
// within handshake_timeout. Registered with the state while it reads, so
// Drain closes it and open_connections() counts it. Internal to attest_http.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "server_state.h"
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

namespace attest::http {

class ProxyHeaderReader : public std::enable_shared_from_this<ProxyHeaderReader> {
 public:
  // `slot` is from ServerState::AdmitRelayed; `proxy` the peer's address,
  // the client's for a LOCAL header (the balancer's own health check).
  ProxyHeaderReader(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerState> state,
                    ConnectionSlot slot, std::string proxy);
  ~ProxyHeaderReader();
  ProxyHeaderReader(const ProxyHeaderReader&) = delete;
  ProxyHeaderReader& operator=(const ProxyHeaderReader&) = delete;

  void Start();
  // From any thread: close now (Drain).
  void PostClose();

 private:
  void OnFixed(boost::system::error_code ec, std::size_t bytes);
  void OnRest(std::size_t rest, boost::system::error_code ec, std::size_t bytes);
  void Close();

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<ServerState> state_;
  ConnectionSlot slot_;
  std::string proxy_;
  boost::asio::steady_timer deadline_;
  std::chrono::steady_clock::time_point handshake_deadline_;
  std::array<std::uint8_t, kProxyHeaderFixedBytes + kMaxProxyHeaderRest> header_{};
};

}  // namespace attest::http
