// What the service's API tests share: a state directory made by
// InitStateDirectory in a temp dir (real SQLite files, real ledger, real
// CA), a clock the test moves, and simulated nodes (simulated_node.h: a
// software EK and AK that enroll and attest with real TPMS_ATTEST quotes)
// measuring the repository's boot log fixture.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "attest/http/client.h"
#include "attest/http/message.h"
#include "attest/http/server.h"
#include "attest/json.h"
#include "attest/openssl.h"
#include "attest/service/config.h"
#include "attest/service/service.h"
#include "attest/service/store.h"
#include "attest/testing/test_support.h"
#include "attest/verifier/evidence.h"

#include "evidence_factory.h"
#include "simulated_node.h"

namespace attest::service::test {

class ManualClock final : public Clock {
 public:
  TimePoint Now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void Advance(std::chrono::seconds by) {
    std::lock_guard lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  TimePoint now_ = std::chrono::system_clock::now();
};

// A fresh deployment per test: init, a policy for the simulated nodes, an
// EK allowlist naming `nodes_` (made before the service opens).
class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Opens (or re-opens) the service over the same state directory.
  void Open();
  void Close();
  // Serves the open service over HTTPS on 127.0.0.1 port 0 with the server
  // options `verifier serve` uses (ServerOptionsFor), and connects client_,
  // which trusts the deployment's CA.
  void StartServer();

  http::Response Call(const std::string& method, const std::string& target,
                      const std::string& body = "", const std::string& token = "",
                      const std::string& client_address = "127.0.0.1");
  // The JSON body of a call expected to answer `status`.
  Json Expect(int status, const std::string& method, const std::string& target,
              const std::string& body = "", const std::string& token = "");
  // The error code of an error answer.
  static std::string ErrorCodeOf(const http::Response& response);

  std::string MakeToken(Role role);
  // Enrollment and activation; the node ends enrolled (or pending approval).
  Json Enroll(const SimulatedNode& node);
  // A challenge for the node.
  Bytes Challenge(const SimulatedNode& node);
  // Challenge + evidence; the evidence response's JSON (status 200 expected).
  Json Attest(const SimulatedNode& node, bool with_boot_log = true,
              verifier::QuoteClock clock = verifier::test::SafeClock());
  Json PostEvidence(const SimulatedNode& node, const verifier::Evidence& evidence,
                    int status = 200);
  // The node's evidence for `nonce` over the tests' selection, without the
  // boot log when `with_boot_log` is false.
  verifier::Evidence MakeEvidence(const SimulatedNode& node, const Bytes& nonce,
                                  bool with_boot_log = true,
                                  verifier::QuoteClock clock = verifier::test::SafeClock()) const;
  // The same quote, with the runtime log sent from `runtime_start` (the
  // verifier's cursor): only the entries after it, runtime_log_start set.
  verifier::Evidence MakeEvidenceFrom(
      const SimulatedNode& node, const Bytes& nonce, std::uint64_t runtime_start,
      bool with_boot_log = false, verifier::QuoteClock clock = verifier::test::SafeClock()) const;
  // Ledger entry kinds, in order.
  std::vector<std::string> LedgerKinds();

  attest::test::TempDir dir_{"service_test"};
  ManualClock clock_;
  // The most runtime files a node measures in these tests (MeasureMore):
  // entries of ExampleRuntimeLog(kMaxRuntimeEntries), all approved by the
  // test policy.
  static constexpr std::size_t kMaxRuntimeEntries = 12;
  // What every simulated node measures: the OVMF fixture boot log and a
  // five-entry runtime log (then up to kMaxRuntimeEntries as runtime_later);
  // quoted as sha256:0-9,14,15.
  NodeMeasurements measurements_;
  tpm::PcrSelection selection_;
  ServiceConfig config_;
  std::string storage_;  // ServiceConfig::storage; "" (SQLite) unless a subclass sets it first
  std::string state_dir_;
  std::string admin_token_;
  std::vector<std::unique_ptr<SimulatedNode>> nodes_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<http::Server> server_;  // StartServer
  std::unique_ptr<http::Client> client_;
};

std::string Str(const http::Response& response);
// The evidence document, as a node posts it.
std::string EvidenceText(const verifier::Evidence& evidence);

// Fails the current test when a response breaks verifier/openapi.yaml: every
// response the API tests receive goes through here.
void ExpectFollowsContract(const std::string& method, const std::string& target, int status,
                           const std::string& content_type, const std::string& body);

}  // namespace attest::service::test
