#include "attest/http/server.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "proxy_header_reader.h"
#include "server_state.h"
#include "session.h"
#include "tls.h"
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace attest::http {
namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---- ServerState -----------------------------------------------------------

namespace {

// A share of `limit` held by `key`: taken when it holds fewer.
bool TakeShare(std::unordered_map<std::string, std::size_t>& shares, const std::string& key,
               std::size_t limit) {
  auto found = shares.find(key);
  if ((found == shares.end() ? 0 : found->second) >= limit) return false;
  ++shares[key];
  return true;
}

void GiveShareBack(std::unordered_map<std::string, std::size_t>& shares, const std::string& key) {
  auto found = shares.find(key);
  if (found != shares.end() && --found->second == 0) shares.erase(found);
}

}  // namespace

void ConnectionSlot::Release() {
  if (state_) std::exchange(state_, nullptr)->Release(address_, relayed_by_);
}

std::optional<ConnectionSlot> ServerState::Admit(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (admitted_ >= options.max_connections ||
      !TakeShare(per_address_, address, options.max_connections_per_address)) {
    return std::nullopt;
  }
  ++admitted_;
  return ConnectionSlot(this, address);
}

bool ServerState::IsTrustedProxy(const std::string& address) const {
  return std::any_of(trusted_proxies.begin(), trusted_proxies.end(),
                     [&](const AddressPrefix& prefix) { return PrefixContains(prefix, address); });
}

std::optional<ConnectionSlot> ServerState::AdmitRelayed(const std::string& proxy) {
  std::lock_guard lock(mutex_);
  if (admitted_ >= options.max_connections ||
      !TakeShare(per_proxy_, proxy,
                 std::max(options.max_connections_per_address, options.max_connections / 2))) {
    return std::nullopt;
  }
  ++admitted_;
  return ConnectionSlot(this, "", proxy);
}

bool ServerState::Readmit(ConnectionSlot& slot, const std::string& client) {
  std::lock_guard lock(mutex_);
  if (!TakeShare(per_address_, client, options.max_connections_per_address)) return false;
  GiveShareBack(per_proxy_, slot.relayed_by_);
  slot.relayed_by_.clear();
  slot.address_ = client;
  return true;
}

void ServerState::Release(const std::string& address, const std::string& relayed_by) {
  std::lock_guard lock(mutex_);
  --admitted_;
  if (!relayed_by.empty()) {  // its header never named a client
    GiveShareBack(per_proxy_, relayed_by);
  } else {
    GiveShareBack(per_address_, address);
  }
}

void ServerState::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mutex_);
  sessions_.emplace(session.get(), session);
}

void ServerState::Unregister(const Session* session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
  if (sessions_.empty() && pending_.empty()) all_closed_.notify_all();
}

void ServerState::RegisterPending(const std::shared_ptr<ProxyHeaderReader>& reader) {
  std::lock_guard lock(mutex_);
  pending_.emplace(reader.get(), reader);
}

void ServerState::UnregisterPending(const ProxyHeaderReader* reader) {
  std::lock_guard lock(mutex_);
  pending_.erase(reader);
  if (sessions_.empty() && pending_.empty()) all_closed_.notify_all();
}

std::vector<std::shared_ptr<ProxyHeaderReader>> ServerState::PendingSnapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<ProxyHeaderReader>> out;
  for (const auto& [key, weak] : pending_) {
    if (auto reader = weak.lock()) out.push_back(std::move(reader));
  }
  return out;
}

std::size_t ServerState::OpenConnections() const {
  std::lock_guard lock(mutex_);
  return sessions_.size() + pending_.size();
}

std::vector<std::shared_ptr<Session>> ServerState::Snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Session>> out;
  for (const auto& [key, weak] : sessions_) {
    if (auto session = weak.lock()) out.push_back(std::move(session));
  }
  return out;
}

bool ServerState::WaitAllClosed(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return all_closed_.wait_until(lock, deadline,
                                [this] { return sessions_.empty() && pending_.empty(); });
}

// ---- Server ----------------------------------------------------------------

namespace {

// How long cut connections get to unwind before the threads stop.
constexpr std::chrono::milliseconds kCutGrace{500};
// After a failed accept (out of descriptors): wait, do not spin.
constexpr std::chrono::milliseconds kAcceptRetry{50};

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return MakeError(ErrorCode::kInvalidArgument, "listen address " + listen + " is not HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return MakeError(ErrorCode::kInvalidArgument, "listen address " + listen + " has a bad port");
  }
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "listen address " + listen + ": host is not an IP address");
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

// The peer's address, IPv4-mapped IPv6 as IPv4 (one client, one key);
// nullopt when the peer is already gone.
std::optional<std::string> ClientAddress(const tcp::socket& socket) {
  boost::system::error_code ec;
  tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return std::nullopt;
  net::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

}  // namespace

struct Server::Impl {
  std::shared_ptr<ServerState> state;
  net::io_context io;  // before everything that uses it: destroyed after them
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  net::strand<net::io_context::executor_type> accept_strand{io.get_executor()};
  tcp::acceptor acceptor{accept_strand};
  net::steady_timer accept_retry{accept_strand};
  std::uint16_t port = 0;
  std::vector<std::thread> threads;
  std::mutex drain_mutex;
  bool drained = false;

  explicit Impl(unsigned thread_count) : io(static_cast<int>(thread_count)) {}

  void Accept() {
    acceptor.async_accept(
        net::make_strand(io), [this](boost::system::error_code ec, tcp::socket socket) {
          if (ec == net::error::operation_aborted || state->draining) return;
          if (ec) {
            accept_retry.expires_after(kAcceptRetry);
            accept_retry.async_wait([this](boost::system::error_code wait_ec) {
              if (!wait_ec && !state->draining) Accept();
            });
            return;
          }
          std::optional<std::string> address = ClientAddress(socket);
          const bool relayed = address && state->IsTrustedProxy(*address);
          std::optional<ConnectionSlot> slot = !address  ? std::optional<ConnectionSlot>()
                                               : relayed ? state->AdmitRelayed(*address)
                                                         : state->Admit(*address);
          if (!slot) {
            boost::system::error_code ignored;
            socket.close(ignored);  // over a limit: closed at once, no handshake
          } else {
            // Responses go out as several writes (TLS records): without
            // this, Nagle holds the last one for the client's delayed ACK
            // (~40 ms on Linux).
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            if (relayed) {
              std::make_shared<ProxyHeaderReader>(std::move(socket), state, std::move(*slot),
                                                  std::move(*address))
                  ->Start();
            } else {
              std::make_shared<Session>(std::move(socket), state, std::move(*slot))->Start();
            }
          }
          Accept();
        });
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Drain(std::chrono::milliseconds(0)); }

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Handler handler) {
  if (!handler) return MakeError(ErrorCode::kInvalidArgument, "server needs a handler");
  if (options.threads == 0 || options.max_connections == 0 ||
      options.max_connections_per_address == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "server needs threads, max_connections and max_connections_per_address > 0");
  }
  ATTEST_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(options.listen));
  auto state = std::make_shared<ServerState>();
  state->options = options;
  for (const std::string& proxy : options.trusted_proxies) {
    Result<AddressPrefix> prefix = ParseAddressPrefix(proxy);
    if (!prefix.ok()) return prefix.error().WithContext("trusted proxy");
    state->trusted_proxies.push_back(*prefix);
  }
  state->handler = std::move(handler);
  ATTEST_ASSIGN_OR_RETURN(
      state->tls, MakeServerContext({options.certificate_chain_path, options.private_key_path,
                                     options.client_ca_path}));
  auto impl = std::make_unique<Impl>(options.threads);
  impl->state = std::move(state);
  boost::system::error_code ec;
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return MakeError(
        ec == net::error::access_denied ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
        "listen on " + options.listen + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  net::post(impl->accept_strand, [raw = impl.get()] { raw->Accept(); });
  for (unsigned i = 0; i < options.threads; ++i) {
    impl->threads.emplace_back([raw = impl.get()] { raw->io.run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const { return impl_->port; }

std::size_t Server::open_connections() const { return impl_->state->OpenConnections(); }

// Must not run on one of the server's own threads (a handler): it waits
// for them.
void Server::Drain(std::chrono::milliseconds deadline) {
  std::lock_guard drain_lock(impl_->drain_mutex);
  if (impl_->drained) return;
  impl_->drained = true;
  auto until = std::chrono::steady_clock::now() + deadline;
  impl_->state->draining = true;
  net::post(impl_->accept_strand, [raw = impl_.get()] {
    boost::system::error_code ignored;
    raw->acceptor.close(ignored);
    raw->accept_retry.cancel();
  });
  // A connection still reading its PROXY header has no request in flight.
  for (const auto& reader : impl_->state->PendingSnapshot()) reader->PostClose();
  for (const auto& session : impl_->state->Snapshot()) session->PostDrain();
  if (!impl_->state->WaitAllClosed(until)) {
    for (const auto& reader : impl_->state->PendingSnapshot()) reader->PostClose();
    for (const auto& session : impl_->state->Snapshot()) session->PostCut();
    (void)impl_->state->WaitAllClosed(std::chrono::steady_clock::now() + kCutGrace);
  }
  // A handler still running (blocked) keeps its thread; join waits for it.
  impl_->work.reset();
  impl_->io.stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
}

}  // namespace attest::http
