// The service's Prometheus metrics (GET /metrics, text format 0.0.4):
// attestations by result and reason, their latency, nodes by state,
// certificates issued and revoked, the ledger's size. Thread safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attest/service/store.h"

namespace prometheus {
class Registry;
class Histogram;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace attest::service::api {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // result "trusted" / "untrusted" / "refused"; reason the first failing
  // reason code ("" for a trusted verdict).
  void CountAttestation(std::string_view result, std::string_view reason, double seconds);
  void CountCertificatesIssued(std::size_t count);
  void CountCertificatesRevoked(std::size_t count);
  void SetNodes(const std::vector<std::pair<NodeState, std::uint64_t>>& counts);
  void SetLedgerSize(std::uint64_t size);

  std::string Serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* attestations_;
  prometheus::Histogram* duration_;
  prometheus::Counter* issued_;
  prometheus::Counter* revoked_;
  prometheus::Family<prometheus::Gauge>* nodes_;
  prometheus::Gauge* ledger_size_;
};

}  // namespace attest::service::api
