#include "served_deployment.h"

#include <chrono>
#include <fstream>

#include "attest/service/config.h"
#include "attest/service/operations.h"

namespace attest::service::test {
namespace {

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return MakeError(ErrorCode::kIo, "cannot write " + path);
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ServedDeployment>> ServedDeployment::Start(
    const std::string& directory, const DeploymentOptions& options) {
  std::unique_ptr<ServedDeployment> deployment(new ServedDeployment());
  deployment->state_dir_ = directory + "/state";
  InitOptions init;
  init.state_dir = deployment->state_dir_;
  init.ledger_origin = "test/attest-verifier";
  ATTEST_ASSIGN_OR_RETURN(deployment->admin_token_, InitStateDirectory(init, deployment->clock_));

  ServiceConfig config;
  config.listen = "127.0.0.1:0";
  config.state_dir = deployment->state_dir_;
  config.tpm_ca_bundle = options.tpm_ca_bundle;
  // One client speaks for every node of a test: the per-address limit
  // would refuse the test, not an attacker.
  config.rate_limit.per_second = 1000;
  config.rate_limit.burst = 1000;
  config.policy_file = directory + "/policy.json";
  ATTEST_RETURN_IF_ERROR(
      WriteFile(*config.policy_file, verifier::PolicyToJson(options.policy).dump(2)));
  if (!options.ek_allowlist.empty()) {
    std::string allowlist;
    for (const std::string& node_id : options.ek_allowlist) allowlist += node_id + "\n";
    config.ek_allowlist = directory + "/ek-allowlist";
    ATTEST_RETURN_IF_ERROR(WriteFile(*config.ek_allowlist, allowlist));
  }
  ATTEST_ASSIGN_OR_RETURN(deployment->service_, Service::Open(config, deployment->clock_));

  // As `verifier serve` starts it: connection caps, per-route body limits.
  const http::ServerOptions server = ServerOptionsFor(config, *deployment->service_);
  Service* handler = deployment->service_.get();
  ATTEST_ASSIGN_OR_RETURN(deployment->server_,
                          http::Server::Start(server, [handler](const http::Request& request) {
                            return handler->Handle(request);
                          }));
  http::ClientOptions client;
  client.port = deployment->server_->port();
  client.ca_bundle_path = deployment->state_dir_ + "/ca.pem";
  ATTEST_ASSIGN_OR_RETURN(deployment->client_, http::Client::Connect(client));
  return deployment;
}

ServedDeployment::~ServedDeployment() {
  client_.reset();
  if (server_) server_->Drain(std::chrono::seconds(2));
  server_.reset();
  if (service_) service_->Shutdown();
}

Result<Json> ServedDeployment::AdminGet(const std::string& target) {
  ATTEST_ASSIGN_OR_RETURN(http::ClientResponse response,
                          client_->Get(target, {{"authorization", "Bearer " + admin_token_}}));
  if (response.status != 200) {
    return MakeError(
        ErrorCode::kVerificationFailed,
        "GET " + target + ": HTTP " + std::to_string(response.status) + " " + response.body);
  }
  Json body = Json::parse(response.body, nullptr, false);
  if (body.is_discarded()) return Json(response.body);
  return body;
}

}  // namespace attest::service::test
