#include "fleet_load.h"

#include <chrono>

#include "attest/json.h"

#include "attestation_client.h"

namespace attest::service::test {
namespace {

constexpr std::size_t kFailureSamples = 5;
constexpr auto kFailoverPause = std::chrono::milliseconds(10);
constexpr auto kTokenPace = std::chrono::milliseconds(15);

}  // namespace

// One connection per verifier, opened on first use and dropped after a
// transport error (the next use reconnects).
class FleetLoad::Clients {
 public:
  explicit Clients(const std::vector<http::ClientOptions>& options)
      : options_(options), clients_(options.size()) {}
  Result<http::Client*> Get(std::size_t index) {
    if (!clients_[index]) {
      ATTEST_ASSIGN_OR_RETURN(clients_[index], http::Client::Connect(options_[index]));
    }
    return clients_[index].get();
  }
  void Drop(std::size_t index) { clients_[index].reset(); }

 private:
  const std::vector<http::ClientOptions>& options_;
  std::vector<std::unique_ptr<http::Client>> clients_;
};

FleetLoad::FleetLoad(std::vector<SimulatedNode*> nodes, FleetLoadOptions options)
    : nodes_(std::move(nodes)), options_(std::move(options)) {
  for (unsigned t = 0; t < options_.node_threads; ++t) {
    threads_.emplace_back([this, t] { RunNodes(t); });
  }
  if (!options_.admin_token.empty()) threads_.emplace_back([this] { RunTokens(); });
}

FleetLoad::~FleetLoad() { (void)Stop(); }

FleetLoadReport FleetLoad::Stop() {
  stop_ = true;
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  std::lock_guard lock(mutex_);
  report_.trusted = trusted_;
  report_.unavailable = unavailable_;
  report_.connection_errors = connection_errors_;
  return report_;
}

bool FleetLoad::Unavailable(int status, const Json& body, const std::string& retry_after) {
  return status == 503 && ErrorCodeOf(body) == "STORE_UNAVAILABLE" && !retry_after.empty();
}

void FleetLoad::Fail(std::string what) {
  std::lock_guard lock(mutex_);
  ++report_.failures;
  if (report_.failure_samples.size() < kFailureSamples) {
    report_.failure_samples.push_back(std::move(what));
  }
}

void FleetLoad::RunNodes(unsigned thread) {
  std::vector<SimulatedNode*> mine;
  for (std::size_t i = thread; i < nodes_.size(); i += options_.node_threads) {
    mine.push_back(nodes_[i]);
  }
  if (mine.empty()) return;
  Clients clients(options_.verifiers);
  const std::size_t verifiers = options_.verifiers.size();
  std::size_t current = thread % verifiers;
  for (std::size_t turn = 0; !stop_; ++turn) {
    SimulatedNode& node = *mine[turn % mine.size()];
    AttestOptions options;
    options.with_csr = options_.csr_every != 0 && turn % options_.csr_every == 0;
    // Until one verifier answers: a verifier that does not, or cannot reach
    // the database, is left for the next.
    while (!stop_) {
      Result<http::Client*> client = clients.Get(current);
      Result<Attestation> result = client.ok() ? AttestAcross(node, **client, **client, options)
                                               : Result<Attestation>(client.error());
      if (!result.ok()) {
        ++connection_errors_;
        clients.Drop(current);
        current = (current + 1) % verifiers;
        std::this_thread::sleep_for(kFailoverPause);
        continue;
      }
      if (Unavailable(result->status, result->body, result->retry_after)) {
        ++unavailable_;
        current = (current + 1) % verifiers;
        std::this_thread::sleep_for(kFailoverPause);
        continue;
      }
      if (!Trusted(result)) {
        Fail(node.hostname() + ": " + Describe(result));
        break;
      }
      ++trusted_;
      if (!options.with_csr) break;
      const Json* chain = FindMember(result->body, "certificate_chain");
      Result<std::string> serial = chain != nullptr && chain->is_string()
                                       ? LeafSerial(chain->get<std::string>())
                                       : MakeError(ErrorCode::kNotFound, "no certificate_chain");
      if (!serial.ok()) {
        Fail(node.hostname() + ": a CSR, trusted, but " + serial.error().ToString() + ": " +
             Describe(result));
        break;
      }
      std::lock_guard lock(mutex_);
      report_.certificates.push_back({node.node_id(), *serial});
      break;
    }
  }
}

void FleetLoad::RunTokens() {
  Clients clients(options_.verifiers);
  const std::size_t verifiers = options_.verifiers.size();
  std::size_t current = 0;
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Authorization", "Bearer " + options_.admin_token}};
  for (std::size_t n = 0; !stop_; ++n) {
    const Json request = {{"role", "reader"}, {"label", "load-" + std::to_string(n)}};
    while (!stop_) {
      Result<http::Client*> client = clients.Get(current);
      Result<http::ClientResponse> response =
          client.ok() ? (*client)->Post("/v1/tokens", request.dump(), headers)
                      : Result<http::ClientResponse>(client.error());
      if (!response.ok()) {
        ++connection_errors_;
        clients.Drop(current);
        current = (current + 1) % verifiers;
        std::this_thread::sleep_for(kFailoverPause);
        continue;
      }
      Result<Json> body = ParseJsonStrict(response->body);
      std::string retry_after;
      for (const auto& [name, value] : response->headers) {
        if (name == "retry-after") retry_after = value;
      }
      if (body.ok() && Unavailable(response->status, *body, retry_after)) {
        ++unavailable_;
        current = (current + 1) % verifiers;
        std::this_thread::sleep_for(kFailoverPause);
        continue;
      }
      const Json* id = body.ok() ? FindMember(*body, "token_id") : nullptr;
      if (response->status != 201 || id == nullptr || !id->is_string()) {
        Fail("POST /v1/tokens: HTTP " + std::to_string(response->status) + " " +
             response->body.substr(0, 300));
        break;
      }
      ++tokens_created_;
      std::lock_guard lock(mutex_);
      report_.tokens.push_back(id->get<std::string>());
      break;
    }
    std::this_thread::sleep_for(kTokenPace);
  }
}

}  // namespace attest::service::test
