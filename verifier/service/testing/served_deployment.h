// A whole verifier deployment for end-to-end tests: `verifier init` in a
// test's directory (real SQLite files, ledger, CA), the service opened
// in-process over it and served over HTTPS on 127.0.0.1 port 0, and a
// client that trusts the TLS certificate init issued. The swtpm protocol
// test and the soundness replay start the verifier through it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/clock.h"
#include "attest/error.h"
#include "attest/http/client.h"
#include "attest/http/server.h"
#include "attest/json.h"
#include "attest/service/service.h"
#include "attest/verifier/policy.h"

namespace attest::service::test {

struct DeploymentOptions {
  verifier::Policy policy;                   // applied at first start
  std::vector<std::string> ek_allowlist;     // node ids; empty: no allowlist
  std::optional<std::string> tpm_ca_bundle;  // PEM file of EK CAs (+ CRLs)
};

class ServedDeployment {
 public:
  // `directory` exists and is the test's; the state directory goes inside.
  static Result<std::unique_ptr<ServedDeployment>> Start(const std::string& directory,
                                                         const DeploymentOptions& options);
  ~ServedDeployment();  // drains the server, then closes the service
  ServedDeployment(const ServedDeployment&) = delete;
  ServedDeployment& operator=(const ServedDeployment&) = delete;

  http::Client& client() { return *client_; }
  const std::string& state_dir() const { return state_dir_; }
  // PEM of the CA that issues node certificates (and signs the CRL).
  std::string ca_certificate_path() const { return state_dir_ + "/ca.pem"; }

  // GET with the admin token (the node's record, the CRL, ...); the body
  // parsed as JSON, or as a JSON string when it is not JSON. An error for
  // transport failures and for any status but 200.
  Result<Json> AdminGet(const std::string& target);
  // The node's record (GET /v1/nodes/{id}).
  Result<Json> Node(const std::string& node_id) { return AdminGet("/v1/nodes/" + node_id); }

 private:
  ServedDeployment() = default;

  SystemClock clock_;
  std::string state_dir_;
  std::string admin_token_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace attest::service::test
