// Load on several verifiers for the failover tests: node threads attest as
// attestd does with several verifier URLs (each sticks to one verifier and,
// on a connection error or a 503, fails over to the next and attests again
// there), some with a CSR, and one admin thread creates API tokens (a state
// change with a ledger entry). It records what the clients were told, so a
// test can check that everything acknowledged is on record.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attest/http/client.h"
#include "attest/json.h"

#include "simulated_node.h"

namespace attest::service::test {

struct FleetLoadOptions {
  std::vector<http::ClientOptions> verifiers;
  unsigned node_threads = 4;
  unsigned csr_every = 3;   // every n-th attestation of a thread asks for a certificate
  std::string admin_token;  // "": no token thread
};

struct AcknowledgedCertificate {
  std::string node_id;
  std::string serial;  // as GET /v1/nodes/{id} lists it
};

struct FleetLoadReport {
  std::uint64_t trusted = 0;                 // 200, trusted verdict
  std::uint64_t connection_errors = 0;       // no answer: failed over and retried
  std::uint64_t unavailable = 0;             // 503 STORE_UNAVAILABLE with Retry-After: retried
  std::uint64_t failures = 0;                // any other answer
  std::vector<std::string> failure_samples;  // the first few, described
  std::vector<AcknowledgedCertificate> certificates;
  std::vector<std::string> tokens;  // token ids answered 201
};

class FleetLoad {
 public:
  // Starts the threads; node thread t owns nodes t, t + threads, ...
  FleetLoad(std::vector<SimulatedNode*> nodes, FleetLoadOptions options);
  ~FleetLoad();
  FleetLoad(const FleetLoad&) = delete;
  FleetLoad& operator=(const FleetLoad&) = delete;

  // Counts so far, while it runs.
  std::uint64_t trusted() const { return trusted_; }
  std::uint64_t unavailable() const { return unavailable_; }
  std::uint64_t connection_errors() const { return connection_errors_; }
  std::uint64_t tokens() const { return tokens_created_; }

  // Stops and joins the threads (an attestation under way finishes, or
  // ends at its next failover); what they recorded.
  FleetLoadReport Stop();

 private:
  // The thread's client of verifier `index`, connected on first use.
  class Clients;
  void RunNodes(unsigned thread);
  void RunTokens();
  // Classifies an answer that is neither a success nor a transport error:
  // true for a 503 STORE_UNAVAILABLE with Retry-After (fail over, retry),
  // false for anything else (recorded as a failure).
  static bool Unavailable(int status, const Json& body, const std::string& retry_after);
  void Fail(std::string what);

  std::vector<SimulatedNode*> nodes_;
  FleetLoadOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> trusted_{0};
  std::atomic<std::uint64_t> unavailable_{0};
  std::atomic<std::uint64_t> connection_errors_{0};
  std::atomic<std::uint64_t> tokens_created_{0};
  std::mutex mutex_;  // guards report_
  FleetLoadReport report_;
  std::vector<std::thread> threads_;
};

}  // namespace attest::service::test
