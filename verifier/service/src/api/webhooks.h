// Webhooks: a JSON POST to every configured receiver when a node's state
// changes, the body signed with the verifier's Ed25519 webhook key
// (X-Attest-Signature: base64 of the signature over the exact body; the
// public key at GET /v1/webhooks/key). A bounded queue and one background
// thread with retry and backoff: a slow or dead receiver never delays an
// attestation, and past the bound the oldest events are dropped (counted).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attest/ed25519.h"
#include "attest/json.h"
#include "attest/service/config.h"

namespace attest::service::api {

class WebhookSender {
 public:
  WebhookSender(std::vector<WebhookConfig> receivers, Ed25519PrivateKey key,
                std::size_t max_queue = 1000);
  ~WebhookSender();  // Stop()
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  const Ed25519PublicKey& public_key() const { return key_.public_key(); }
  void Enqueue(const Json& event);
  // Delivers what is queued within `deadline`, then stops the thread.
  void Stop(std::chrono::milliseconds deadline);

  std::size_t dropped() const;
  std::size_t delivered() const;

 private:
  struct Pending {
    std::string body;
    std::string signature;  // base64
    std::size_t receiver = 0;
    int attempts = 0;
    std::chrono::steady_clock::time_point not_before;
  };
  void Run();
  bool Deliver(const Pending& pending);

  const std::vector<WebhookConfig> receivers_;
  const Ed25519PrivateKey key_;
  const std::size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  std::size_t dropped_ = 0;
  std::size_t delivered_ = 0;
  std::thread thread_;
};

// The URL parts delivery uses: "https://host:port/path" (port 443 when
// absent). nullopt for anything else.
struct WebhookUrl {
  std::string host;
  std::uint16_t port = 443;
  std::string target;
};
std::optional<WebhookUrl> ParseWebhookUrl(std::string_view url);

}  // namespace attest::service::api
