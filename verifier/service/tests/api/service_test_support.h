// What the service's API tests share: a state directory made by
// InitStateDirectory in a temp dir (real SQLite files, real ledger, real
// CA), a clock the test moves, and simulated nodes with a software EK and
// AK that enroll (recovering the credential's secret with the ActivateCredential
// math against the EK's private key) and attest with real TPMS_ATTEST
// quotes over the repository's boot log fixture.
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

// A node: a software P-256 EK and a software AK (EvidenceFactory).
class SimulatedNode {
 public:
  explicit SimulatedNode(std::string hostname = "node.example");
  // The same TPM (EK) with a new AK: what a re-enrollment presents.
  SimulatedNode(std::string hostname, const SimulatedNode& same_tpm);

  const std::string& node_id() const { return node_id_; }
  const std::string& hostname() const { return hostname_; }
  const Bytes& ek_public() const { return ek_public_; }
  Json EnrollmentBody() const;
  // The secret the credential of POST /v1/enrollments carries, as the
  // node's TPM would release it; an error when it does not open.
  Result<Bytes> ActivateCredential(const Json& enrollment) const;

  verifier::Evidence MakeEvidence(const Bytes& nonce, bool with_boot_log = true,
                                  verifier::QuoteClock clock = verifier::test::SafeClock()) const;
  // The same quote, with the runtime log sent from `runtime_start` (the
  // verifier's cursor): only the entries after it, runtime_log_start set.
  verifier::Evidence MakeEvidenceFrom(
      const Bytes& nonce, std::uint64_t runtime_start, bool with_boot_log = false,
      verifier::QuoteClock clock = verifier::test::SafeClock()) const;
  // attestd measured `count` more runtime files (entries of
  // ExampleRuntimeLog(kMaxRuntimeEntries), all approved by the test policy).
  void MeasureMore(std::size_t count) { runtime_entries_ += count; }
  // A reboot: the runtime log starts again (as /run does), with `entries`.
  void RestartRuntimeLog(std::size_t entries) { runtime_entries_ = entries; }
  std::size_t runtime_entries() const { return runtime_entries_; }
  static constexpr std::size_t kMaxRuntimeEntries = 12;
  // A CSR for a fresh TPM-like signing key, and the AK's TPM2_Certify of it.
  void AddCertificateRequest(verifier::Evidence& evidence, bool with_proof = true) const;
  std::string EvidenceText(const verifier::Evidence& evidence) const;

  const verifier::test::EvidenceFactory& factory() const { return factory_; }
  const tpm::PcrSelection& selection() const { return selection_; }

 private:
  std::string hostname_;
  EvpPkeyPtr ek_;
  Bytes ek_public_;
  std::string node_id_;
  verifier::test::EvidenceFactory factory_;
  Bytes boot_log_;
  tpm::PcrSelection selection_;
  std::size_t runtime_entries_ = 5;
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
  // Ledger entry kinds, in order.
  std::vector<std::string> LedgerKinds();

  attest::test::TempDir dir_{"service_test"};
  ManualClock clock_;
  ServiceConfig config_;
  std::string state_dir_;
  std::string admin_token_;
  std::vector<std::unique_ptr<SimulatedNode>> nodes_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<http::Server> server_;  // StartServer
  std::unique_ptr<http::Client> client_;
};

std::string Str(const http::Response& response);

// Fails the current test when a response breaks verifier/openapi.yaml: every
// response the API tests receive goes through here.
void ExpectFollowsContract(const std::string& method, const std::string& target, int status,
                           const std::string& content_type, const std::string& body);

}  // namespace attest::service::test
