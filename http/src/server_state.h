// What the server and its connections share: options, the handler, the TLS
// context and the registry of open connections Drain walks. Internal to
// attest_http. Connections hold it by shared_ptr, so it outlives the last
// of them even while the io_context destroys abandoned handlers.
#pragma once

#include <atomic>
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

class Session;
struct ServerState;

// A connection's claim on max_connections and on its client address's
// share, taken before any TLS work and given back when it is destroyed (the
// Session owns it), whichever way the connection ends. A connection from a
// trusted proxy holds no address's share until its PROXY header names the
// client (ServerState::Readmit); its address is empty until then.
class ConnectionSlot {
 public:
  ConnectionSlot(ServerState* state, std::string address)
      : state_(state), address_(std::move(address)) {}
  ~ConnectionSlot() { Release(); }
  // Gives the slot back; later calls do nothing.
  void Release();
  ConnectionSlot(ConnectionSlot&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)), address_(std::move(other.address_)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  const std::string& address() const { return address_; }

 private:
  friend struct ServerState;
  ServerState* state_;
  std::string address_;
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
  // A connection from a trusted proxy, before its header: max_connections
  // only (the proxy's own address relays many clients).
  std::optional<ConnectionSlot> AdmitRelayed();
  // The header named `client`: false when that address holds its share
  // already (close the connection), else the slot is now the client's.
  bool Readmit(ConnectionSlot& slot, const std::string& client);
  void Register(const std::shared_ptr<Session>& session);
  void Unregister(const Session* session);
  std::size_t OpenConnections() const;
  std::vector<std::shared_ptr<Session>> Snapshot() const;
  // True when every connection closed before `deadline`.
  bool WaitAllClosed(std::chrono::steady_clock::time_point deadline);

 private:
  friend class ConnectionSlot;
  void Release(const std::string& address);

  mutable std::mutex mutex_;
  std::condition_variable all_closed_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;
  std::size_t admitted_ = 0;                                  // slots held
  std::unordered_map<std::string, std::size_t> per_address_;  // slots held per address
};

}  // namespace attest::http
