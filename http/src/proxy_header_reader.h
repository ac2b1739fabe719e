// A connection from a trusted proxy before its TLS: reads exactly its PROXY
// protocol v2 header (no byte of the TLS after it), within
// handshake_timeout, then hands the socket to a Session for the client the
// header names. Internal to attest_http.
#pragma once

#include <array>
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
  void Start();

 private:
  void OnFixed(boost::system::error_code ec, std::size_t bytes);
  void OnRest(std::size_t rest, boost::system::error_code ec, std::size_t bytes);
  void Close();

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<ServerState> state_;
  ConnectionSlot slot_;
  std::string proxy_;
  boost::asio::steady_timer deadline_;
  std::array<std::uint8_t, kProxyHeaderFixedBytes + kMaxProxyHeaderRest> header_{};
};

}  // namespace attest::http
