#include "metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace attest::service::api {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  attestations_ = &prometheus::BuildCounter()
                       .Name("attestations_total")
                       .Help("Evidence documents answered, by result and first failing reason")
                       .Register(*registry_);
  duration_ = &prometheus::BuildHistogram()
                   .Name("attestation_duration_seconds")
                   .Help("Time to answer one evidence document")
                   .Register(*registry_)
                   .Add({}, prometheus::Histogram::BucketBoundaries{
                                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1});
  issued_ = &prometheus::BuildCounter()
                 .Name("certificates_issued_total")
                 .Help("Node certificates issued")
                 .Register(*registry_)
                 .Add({});
  revoked_ = &prometheus::BuildCounter()
                  .Name("certificates_revoked_total")
                  .Help("Node certificates revoked")
                  .Register(*registry_)
                  .Add({});
  nodes_ = &prometheus::BuildGauge().Name("nodes").Help("Nodes by state").Register(*registry_);
  ledger_size_ = &prometheus::BuildGauge()
                      .Name("ledger_size")
                      .Help("Entries in the audit ledger")
                      .Register(*registry_)
                      .Add({});
}

Metrics::~Metrics() = default;

void Metrics::CountAttestation(std::string_view result, std::string_view reason, double seconds) {
  attestations_->Add({{"result", std::string(result)}, {"reason", std::string(reason)}})
      .Increment();
  duration_->Observe(seconds);
}

void Metrics::CountCertificatesIssued(std::size_t count) {
  issued_->Increment(static_cast<double>(count));
}
void Metrics::CountCertificatesRevoked(std::size_t count) {
  revoked_->Increment(static_cast<double>(count));
}

void Metrics::SetNodes(const std::vector<std::pair<NodeState, std::uint64_t>>& counts) {
  for (NodeState state : {NodeState::kPendingApproval, NodeState::kEnrolled, NodeState::kTrusted,
                          NodeState::kUntrusted, NodeState::kRevoked}) {
    double value = 0;
    for (const auto& [counted, count] : counts) {
      if (counted == state) value = static_cast<double>(count);
    }
    nodes_->Add({{"state", std::string(NodeStateName(state))}}).Set(value);
  }
}

void Metrics::SetLedgerSize(std::uint64_t size) { ledger_size_->Set(static_cast<double>(size)); }

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace attest::service::api
