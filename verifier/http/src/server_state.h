// What the server and its connections share: options, the handler, the TLS
// context and the registry of open connections Drain walks. Internal to
// attest_http. Connections hold it by shared_ptr, so it outlives the last
// of them even while the io_context destroys abandoned handlers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "attest/http/server.h"

#include <boost/asio/ssl/context.hpp>

namespace attest::http {

class Session;

struct ServerState {
  ServerOptions options;
  Handler handler;
  std::unique_ptr<boost::asio::ssl::context> tls;
  std::atomic<bool> draining{false};

  void Register(const std::shared_ptr<Session>& session);
  void Unregister(const Session* session);
  std::size_t OpenConnections() const;
  std::vector<std::shared_ptr<Session>> Snapshot() const;
  // True when every connection closed before `deadline`.
  bool WaitAllClosed(std::chrono::steady_clock::time_point deadline);

 private:
  mutable std::mutex mutex_;
  std::condition_variable all_closed_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;
};

}  // namespace attest::http
