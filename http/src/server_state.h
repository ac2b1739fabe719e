// What the server and its connections share: options, the handler, the TLS
// context and the registry of open connections Drain walks. Internal to
// attest_http. Connections hold it by shared_ptr, so it outlives the last
// of them even while the io_context destroys abandoned handlers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "attest/http/proxy_protocol.h"
#include "attest/http/server.h"

#include <boost/asio/ssl/context.hpp>

namespace attest::http {

class ProxyHeaderReader;
class Session;
struct ServerState;

// now + `timeout`, clamped at the clock's end rather than overflowing.
inline std::chrono::steady_clock::time_point DeadlineAfter(std::chrono::milliseconds timeout) {
  const auto now = std::chrono::steady_clock::now();
  const auto room = std::chrono::steady_clock::time_point::max() - now;
  return timeout >= room ? std::chrono::steady_clock::time_point::max() : now + timeout;
}

// A connection's claim on max_connections and on its client address's
// share, taken before any TLS work and given back when it is destroyed (the
// Session owns it), whichever way the connection ends. A connection from a
// trusted proxy holds a share of the proxy's pending headers instead until
// its PROXY header names the client (ServerState::Readmit); its address is
// empty until then.
class ConnectionSlot {
 public:
  ConnectionSlot(ServerState* state, std::string address, std::string relayed_by = "")
      : state_(state), address_(std::move(address)), relayed_by_(std::move(relayed_by)) {}
  ~ConnectionSlot() { Release(); }
  // Gives the slot back; later calls do nothing.
  void Release();
  ConnectionSlot(ConnectionSlot&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)),
        address_(std::move(other.address_)),
        relayed_by_(std::move(other.relayed_by_)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  const std::string& address() const { return address_; }

 private:
  friend struct ServerState;
  ServerState* state_;
  std::string address_;
  std::string relayed_by_;  // the proxy, while its header is awaited
};

struct ServerState {
  ServerOptions options;
  Handler handler;
  std::unique_ptr<boost::asio::ssl::context> tls;
  std::atomic<bool> draining{false};
  std::vector<AddressPrefix> trusted_proxies;  // options.trusted_proxies, parsed

  // A slot when the server and `address` are both under their limits;
  // nullopt means close the socket unanswered.
  std::optional<ConnectionSlot> Admit(const std::string& address);
  bool IsTrustedProxy(const std::string& address) const;
  // A connection from trusted proxy `proxy`, before its header: under
  // max_connections, and with at most max(max_connections_per_address,
  // max_connections / 2) of the proxy's connections awaiting their header:
  // a balancer's burst waiting on busy threads fits, and a host in a
  // trusted range that sends nothing cannot hold every slot.
  std::optional<ConnectionSlot> AdmitRelayed(const std::string& proxy);
  // The header named `client`: false when that address holds its share
  // already (close the connection), else the slot is now the client's.
  bool Readmit(ConnectionSlot& slot, const std::string& client);
  void Register(const std::shared_ptr<Session>& session);
  void Unregister(const Session* session);
  // Connections still reading their PROXY header: open_connections()
  // counts them and Drain closes them.
  void RegisterPending(const std::shared_ptr<ProxyHeaderReader>& reader);
  void UnregisterPending(const ProxyHeaderReader* reader);
  std::vector<std::shared_ptr<ProxyHeaderReader>> PendingSnapshot() const;
  std::size_t OpenConnections() const;
  std::vector<std::shared_ptr<Session>> Snapshot() const;
  // True when every connection closed before `deadline`.
  bool WaitAllClosed(std::chrono::steady_clock::time_point deadline);

 private:
  friend class ConnectionSlot;
  void Release(const std::string& address, const std::string& relayed_by);

  mutable std::mutex mutex_;
  std::condition_variable all_closed_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;
  std::unordered_map<const ProxyHeaderReader*, std::weak_ptr<ProxyHeaderReader>> pending_;
  std::size_t admitted_ = 0;                                  // slots held
  std::unordered_map<std::string, std::size_t> per_address_;  // slots held per address
  std::unordered_map<std::string, std::size_t> per_proxy_;    // headers awaited per proxy
};

}  // namespace attest::http
