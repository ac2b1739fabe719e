#include "webhooks.h"

#include <algorithm>
#include <charconv>
#include <iostream>

#include "attest/encoding.h"
#include "attest/http/client.h"

namespace attest::service::api {
namespace {

constexpr int kMaxAttempts = 8;

std::chrono::milliseconds Backoff(int attempts) {
  return std::chrono::milliseconds(std::min(60'000, 250 << std::min(attempts, 8)));
}

}  // namespace

std::optional<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  WebhookUrl parsed;
  parsed.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return std::nullopt;
      port = rest.substr(1);
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return std::nullopt;
  parsed.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    parsed.port = static_cast<std::uint16_t>(value);
  }
  return parsed;
}

WebhookSender::WebhookSender(std::vector<WebhookConfig> receivers, Ed25519PrivateKey key,
                             std::size_t max_queue)
    : receivers_(std::move(receivers)), key_(std::move(key)), max_queue_(max_queue) {
  if (!receivers_.empty()) thread_ = std::thread([this] { Run(); });
}

WebhookSender::~WebhookSender() { Stop(std::chrono::milliseconds(0)); }

void WebhookSender::Enqueue(const Json& event) {
  if (receivers_.empty()) return;
  Pending pending;
  pending.body = event.dump(-1, ' ', false, Json::error_handler_t::replace);
  Ed25519Signature signature = key_.Sign(AsBytes(pending.body));
  pending.signature = Base64Encode(signature);
  pending.not_before = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    for (std::size_t i = 0; i < receivers_.size(); ++i) {
      pending.receiver = i;
      if (queue_.size() >= max_queue_) {
        queue_.pop_front();
        ++dropped_;
      }
      queue_.push_back(pending);
    }
  }
  wake_.notify_one();
}

void WebhookSender::Stop(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    stop_deadline_ = std::chrono::steady_clock::now() + deadline;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t WebhookSender::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}
std::size_t WebhookSender::delivered() const {
  std::lock_guard lock(mutex_);
  return delivered_;
}

void WebhookSender::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (stopping_ && (queue_.empty() || now >= stop_deadline_)) {
      dropped_ += queue_.size();
      queue_.clear();
      return;
    }
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    // The first event whose backoff has passed; events of one receiver stay
    // in order because a retried event goes back to the front.
    Pending pending = queue_.front();
    if (pending.not_before > now) {
      auto until = pending.not_before;
      if (stopping_) until = std::min(until, stop_deadline_);
      wake_.wait_until(lock, until);
      continue;
    }
    queue_.pop_front();
    lock.unlock();
    bool ok = Deliver(pending);
    lock.lock();
    if (ok) {
      ++delivered_;
    } else if (++pending.attempts < kMaxAttempts) {
      pending.not_before = std::chrono::steady_clock::now() + Backoff(pending.attempts);
      queue_.push_front(std::move(pending));
    } else {
      ++dropped_;
      std::cerr << "verifier: webhook " << receivers_[pending.receiver].url << ": giving up after "
                << kMaxAttempts << " attempts\n";
    }
  }
}

bool WebhookSender::Deliver(const Pending& pending) {
  const WebhookConfig& receiver = receivers_[pending.receiver];
  std::optional<WebhookUrl> url = ParseWebhookUrl(receiver.url);
  if (!url) return false;
  http::ClientOptions options;
  options.host = url->host;
  options.port = url->port;
  options.ca_bundle_path = receiver.ca_bundle.value_or("/etc/ssl/certs/ca-certificates.crt");
  options.timeout = std::chrono::milliseconds(5000);
  auto client = http::Client::Connect(options);
  if (!client.ok()) return false;
  auto response = (*client)->Post(
      url->target, pending.body,
      {{"content-type", "application/json"}, {"x-attest-signature", pending.signature}});
  return response.ok() && response->status >= 200 && response->status < 300;
}

}  // namespace attest::service::api
