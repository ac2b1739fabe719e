// What the end-to-end tests share beyond the deployment: gtest-friendly
// waits and the openssl command-line checks of a node certificate.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "attest/json.h"

#include "e2e_deployment.h"

namespace attest::test {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Fails the test (fatally, from the caller's ASSERT_NO_FATAL_FAILURE) with
// the error, which carries the process logs.
#define ATTEST_E2E_ASSIGN(lhs, expression)                           \
  auto lhs##_result = (expression);                                  \
  ASSERT_TRUE(lhs##_result.ok()) << lhs##_result.error().ToString(); \
  auto lhs = std::move(lhs##_result).value()

// A deployment with its verifier serving; StartNode starts attestd.
class E2eTest : public ::testing::Test {
 protected:
  virtual E2eOptions Options() const { return {}; }
  // Between `verifier init` and the verifier's start (a webhook receiver).
  virtual void BeforeVerifierStarts() {}
  void SetUp() override;
  // attestd started (with `environment` added), then trusted with a
  // certificate installed; node_id() is its node.
  void StartNode(const std::map<std::string, std::string>& environment = {});
  // Waits for status.json to say trusted with a certificate whose attempt
  // came at or after `since` (unix seconds).
  void WaitUntilTrusted(std::int64_t since, seconds timeout = seconds(30));
  E2eDeployment& deployment() { return *deployment_; }
  std::string node_id() const { return node_id_; }

  std::unique_ptr<E2eDeployment> deployment_;
  std::string node_id_;
};

std::int64_t UnixNow();

// The serials of the node record's certificates, in the verifier's order.
std::vector<std::string> Serials(const Json& node);
// Ledger entries of `kind` about `node_id` (payload.node_id).
std::vector<Json> EntriesOf(const std::vector<Json>& entries, const std::string& kind,
                            const std::string& node_id);
// `openssl x509 -serial` of the first certificate in `pem_path`, lower case.
std::string CertificateSerial(const std::string& pem_path);

}  // namespace attest::test
