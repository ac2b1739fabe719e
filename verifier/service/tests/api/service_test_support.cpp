#include "service_test_support.h"

#include <fstream>

#include "attest/encoding.h"
#include "attest/ledger/ledger.h"
#include "attest/service/operations.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/policy.h"

#include "openapi_validator.h"

namespace attest::service::test {

std::string Str(const http::Response& response) {
  return std::to_string(response.status) + " " + response.body;
}

std::string EvidenceText(const verifier::Evidence& evidence) {
  return verifier::EvidenceToJson(evidence).value().dump();
}

void ServiceTest::SetUp() {
  measurements_.boot_log = verifier::test::ReadFixture("eventlogs/ovmf-sb-on.bin");
  measurements_.runtime_log = verifier::test::ExampleRuntimeLog(5);
  const runtime::RuntimeLog most = verifier::test::ExampleRuntimeLog(kMaxRuntimeEntries);
  measurements_.runtime_later.assign(most.entries.begin() + 5, most.entries.end());
  selection_ = tpm::ParsePcrSelection("sha256:0-9,14,15").value();
  for (const char* host : {"node-a.example", "node-b.example"}) {
    nodes_.push_back(std::make_unique<SimulatedNode>(host, measurements_, EkKind::kEccP256));
  }
  state_dir_ = dir_.File("state");
  InitOptions init;
  init.state_dir = state_dir_;
  init.ledger_origin = "test/attest-verifier";
  init.storage = storage_;
  auto token = InitStateDirectory(init, clock_);
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  admin_token_ = *token;

  // A policy allowing exactly what the simulated nodes show, or will once
  // they measure more runtime files (MeasureMore).
  const SimulatedNode& model = *nodes_[0];
  verifier::Evidence sample = MakeEvidence(model, Bytes(32, 1));
  verifier::Policy policy = verifier::test::PolicyFor(sample, model.ak().LoadedKey());
  for (const runtime::RuntimeEntry& entry : most.entries) {
    policy.runtime.allowed_digests.insert(entry.sha256);
  }
  policy.trust_domain = "example.org";
  std::ofstream(dir_.File("policy.json")) << verifier::PolicyToJson(policy).dump(2);
  std::ofstream allowlist(dir_.File("allowlist"));
  for (const auto& node : nodes_) allowlist << node->node_id() << "\n";
  allowlist.close();

  config_.state_dir = state_dir_;
  config_.storage = storage_;
  config_.policy_file = dir_.File("policy.json");
  config_.ek_allowlist = dir_.File("allowlist");
  config_.rate_limit.per_second = 1000;
  config_.rate_limit.burst = 1000;
  Open();
}

void ServiceTest::TearDown() { Close(); }

void ServiceTest::StartServer() {
  config_.listen = "127.0.0.1:0";
  http::ServerOptions options = ServerOptionsFor(config_, *service_);
  Service* service = service_.get();
  auto server = http::Server::Start(
      options, [service](const http::Request& request) { return service->Handle(request); });
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  server_ = std::move(server).value();
  http::ClientOptions client;
  client.port = server_->port();
  client.ca_bundle_path = state_dir_ + "/ca.pem";
  auto connected = http::Client::Connect(client);
  ASSERT_TRUE(connected.ok()) << connected.error().ToString();
  client_ = std::move(connected).value();
}

void ServiceTest::Open() {
  Close();
  auto opened = Service::Open(config_, clock_);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  service_ = std::move(opened).value();
}

void ServiceTest::Close() {
  if (service_) service_->Shutdown();
  service_.reset();
}

http::Response ServiceTest::Call(const std::string& method, const std::string& target,
                                 const std::string& body, const std::string& token,
                                 const std::string& client_address) {
  http::Request request;
  request.method = method;
  request.target = target;
  std::size_t question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos) {
    std::string query = target.substr(question + 1);
    std::size_t start = 0;
    while (start < query.size()) {
      std::size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      std::string pair = query.substr(start, amp - start);
      std::size_t eq = pair.find('=');
      request.query.emplace_back(pair.substr(0, eq),
                                 eq == std::string::npos ? "" : pair.substr(eq + 1));
      start = amp + 1;
    }
  }
  request.body = body;
  request.client_address = client_address;
  if (!token.empty()) request.headers.emplace_back("authorization", "Bearer " + token);
  http::Response response = service_->Handle(request);
  ExpectFollowsContract(method, target, response.status, response.content_type, response.body);
  return response;
}

void ExpectFollowsContract(const std::string& method, const std::string& target, int status,
                           const std::string& content_type, const std::string& body) {
  static const Result<attest::test::OpenApiContract> contract =
      attest::test::OpenApiContract::Load(ATTEST_OPENAPI_PATH);
  ASSERT_TRUE(contract.ok()) << contract.error().message;
  const std::string path = target.substr(0, target.find('?'));
  Status follows = contract->CheckResponse(method, path, status, content_type, body);
  if (!follows.ok() && (status == 404 || status == 405)) {
    // A route the contract does not have: the answer is still an Error.
    Result<Json> json = ParseJsonStrict(body);
    ASSERT_TRUE(json.ok()) << status << " body is not JSON: " << body;
    follows = contract->CheckAgainst(contract->document()["components"]["schemas"]["Error"], *json);
  }
  EXPECT_TRUE(follows.ok()) << "openapi.yaml: " << follows.error().message;
}

Json ServiceTest::Expect(int status, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& token) {
  http::Response response = Call(method, target, body, token);
  EXPECT_EQ(response.status, status) << method << " " << target << ": " << response.body;
  if (response.content_type != "application/json") return Json(response.body);
  Result<Json> json = ParseJsonStrict(response.body);
  EXPECT_TRUE(json.ok()) << response.body;
  return json.ok() ? *json : Json();
}

std::string ServiceTest::ErrorCodeOf(const http::Response& response) {
  Result<Json> json = ParseJsonStrict(response.body);
  if (!json.ok() || !json->contains("error")) return "(not an error: " + response.body + ")";
  return (*json)["error"]["code"].get<std::string>();
}

std::string ServiceTest::MakeToken(Role role) {
  Json created = Expect(201, "POST", "/v1/tokens",
                        Json{{"role", RoleName(role)}, {"label", "test"}}.dump(), admin_token_);
  return created.value("token", "");
}

Json ServiceTest::Enroll(const SimulatedNode& node) {
  Json enrollment = Expect(201, "POST", "/v1/enrollments", node.EnrollmentBody().dump());
  Result<Bytes> secret = node.ActivateCredential(enrollment);
  EXPECT_TRUE(secret.ok()) << secret.error().ToString();
  if (!secret.ok()) return Json();
  return Expect(200, "POST",
                "/v1/enrollments/" + enrollment["enrollment_id"].get<std::string>() + "/activate",
                Json{{"secret", Base64Encode(*secret)}}.dump());
}

Bytes ServiceTest::Challenge(const SimulatedNode& node) {
  Json challenge = Expect(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  return HexDecode(challenge.value("nonce", "")).value();
}

Json ServiceTest::PostEvidence(const SimulatedNode& node, const verifier::Evidence& evidence,
                               int status) {
  return Expect(status, "POST", "/v1/nodes/" + node.node_id() + "/evidence",
                EvidenceText(evidence));
}

verifier::Evidence ServiceTest::MakeEvidence(const SimulatedNode& node, const Bytes& nonce,
                                             bool with_boot_log, verifier::QuoteClock clock) const {
  verifier::Evidence evidence = node.MakeEvidence(nonce, selection_, clock);
  if (!with_boot_log) evidence.boot_log.reset();
  return evidence;
}

verifier::Evidence ServiceTest::MakeEvidenceFrom(const SimulatedNode& node, const Bytes& nonce,
                                                 std::uint64_t runtime_start, bool with_boot_log,
                                                 verifier::QuoteClock clock) const {
  verifier::Evidence evidence = node.MakeEvidenceFrom(nonce, selection_, runtime_start, clock);
  if (!with_boot_log) evidence.boot_log.reset();
  return evidence;
}

Json ServiceTest::Attest(const SimulatedNode& node, bool with_boot_log,
                         verifier::QuoteClock clock) {
  Bytes nonce = Challenge(node);
  return PostEvidence(node, MakeEvidence(node, nonce, with_boot_log, clock));
}

std::vector<std::string> ServiceTest::LedgerKinds() {
  auto ledger =
      ledger::Ledger::Open(ResolveStorage(storage_, state_dir_).ledger_db(), {.read_only = true});
  EXPECT_TRUE(ledger.ok());
  std::vector<std::string> kinds;
  if (!ledger.ok()) return kinds;
  std::uint64_t size = ledger->Size().value();
  for (std::uint64_t seq = 1; seq <= size; ++seq) kinds.push_back(ledger->Get(seq)->content.kind);
  return kinds;
}

}  // namespace attest::service::test
