// The service over real HTTPS on 127.0.0.1 (attest_http's server and
// client, the TLS certificate `verifier init` issued), and webhooks
// delivered to a local HTTPS receiver, signed with the webhook key.
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <limits>
#include <mutex>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/http/client.h"
#include "attest/http/server.h"
#include "attest/signer/public_key.h"
#include "attest/verifier/certificate_authority.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

class HttpsTest : public ServiceTest {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  // As `verifier serve` starts it (ServerOptionsFor), on port 0.

  void TearDown() override {
    client_.reset();
    if (server_) server_->Drain(std::chrono::seconds(2));
    server_.reset();
    ServiceTest::TearDown();
  }

  Json Send(int status, const std::string& method, const std::string& target,
            const std::string& body = "") {
    auto response = client_->Send(method, target, body);
    EXPECT_TRUE(response.ok()) << response.error().ToString();
    if (!response.ok()) return Json();
    EXPECT_EQ(response->status, status) << target << ": " << response->body;
    ExpectFollowsContract(method, target, response->status, response->content_type, response->body);
    auto json = ParseJsonStrict(response->body);
    return json.ok() ? *json : Json(response->body);
  }
};

TEST_F(HttpsTest, TheWholeProtocolOverHttps) {
  StartServer();
  EXPECT_EQ(Send(200, "GET", "/healthz")["status"], "ok");
  const SimulatedNode& node = *nodes_[0];
  Json enrollment = Send(201, "POST", "/v1/enrollments", node.EnrollmentBody().dump());
  Bytes secret = node.ActivateCredential(enrollment).value();
  Json activated =
      Send(200, "POST",
           "/v1/enrollments/" + enrollment["enrollment_id"].get<std::string>() + "/activate",
           Json{{"secret", Base64Encode(secret)}}.dump());
  EXPECT_EQ(activated["state"], "enrolled");
  for (int round = 0; round < 3; ++round) {
    Json challenge = Send(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
    Bytes nonce = HexDecode(challenge["nonce"].get<std::string>()).value();
    Json verdict = Send(200, "POST", "/v1/nodes/" + node.node_id() + "/evidence",
                        EvidenceText(MakeEvidence(node, nonce, round == 0)));
    EXPECT_EQ(verdict["state"], "trusted") << verdict.dump(2);
  }
  auto unauthenticated = client_->Get("/v1/nodes");
  ASSERT_TRUE(unauthenticated.ok());
  EXPECT_EQ(unauthenticated->status, 401);
  auto listed = client_->Get("/v1/nodes", {{"Authorization", "Bearer " + admin_token_}});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->status, 200);
  EXPECT_NE(listed->body.find(node.node_id()), std::string::npos);
}

// `verifier serve` passes the configuration's threads and trusted proxies
// to the server (ServerOptionsFor); the server's own tests cover what it
// does with them.
TEST_F(HttpsTest, TheServerGetsTheConfiguredThreadsAndTrustedProxies) {
  config_.threads = 3;
  config_.trusted_proxies = {"10.0.0.2", "fd00:1::/64"};
  http::ServerOptions options = ServerOptionsFor(config_, *service_);
  EXPECT_EQ(options.threads, 3u);
  EXPECT_EQ(options.trusted_proxies, config_.trusted_proxies);
  config_.threads.reset();  // SQLite storage: 2
  EXPECT_EQ(ServerOptionsFor(config_, *service_).threads, 2u);
}

// Only the evidence route (and PUT /v1/policy) takes large bodies: a 100 KiB
// body to any other route is 413 from its Content-Length, before a handler
// parses it; the same body to the evidence route reaches its handler.
TEST_F(HttpsTest, EachRouteHasItsBodyLimitBeforeAnyHandlerRuns) {
  StartServer();
  const std::string big(100 * 1024, 'x');
  for (const char* target : {"/v1/enrollments", "/v1/enrollments/abc/activate",
                             "/v1/nodes/abc/challenges", "/v1/tokens", "/v1/no-such-route"}) {
    auto response = client_->Send("POST", target, big);
    ASSERT_TRUE(response.ok()) << target << ": " << response.error().ToString();
    EXPECT_EQ(response->status, 413) << target << ": " << response->body;
    EXPECT_NE(response->body.find("BODY_TOO_LARGE"), std::string::npos) << response->body;
  }
  const std::string node_id(64, 'a');
  auto evidence = client_->Send("POST", "/v1/nodes/" + node_id + "/evidence", big);
  ASSERT_TRUE(evidence.ok()) << evidence.error().ToString();
  EXPECT_NE(evidence->status, 413) << evidence->body;
  EXPECT_EQ(evidence->body.find("BODY_TOO_LARGE"), std::string::npos) << evidence->body;
  EXPECT_EQ(service_->BodyLimit("POST", "/v1/nodes/" + node_id + "/evidence"),
            std::numeric_limits<std::size_t>::max());
  EXPECT_EQ(service_->BodyLimit("PUT", "/v1/policy"), std::size_t{2 * 1024 * 1024 + 64 * 1024});
  EXPECT_EQ(service_->BodyLimit("POST", "/v1/enrollments"), std::size_t{64 * 1024});
  EXPECT_EQ(service_->BodyLimit("GET", "/v1/nodes/" + node_id + "/evidence"),
            std::size_t{64 * 1024});
}

// /v1%2Ftokens is not /v1/tokens: the escaped slash is refused (400) before
// the router could split at it.
TEST_F(HttpsTest, AnEscapedSlashNeverRoutesAsASeparator) {
  StartServer();
  for (const char* target : {"/v1%2Ftokens", "/v1%2ftokens", "/v1/nodes%2Fabc"}) {
    auto response = client_->Send("GET", target, "", {{"Authorization", "Bearer " + admin_token_}});
    ASSERT_TRUE(response.ok()) << target << ": " << response.error().ToString();
    EXPECT_EQ(response->status, 400) << target << ": " << response->body;
    EXPECT_NE(response->body.find("INVALID_ARGUMENT"), std::string::npos) << response->body;
  }
  auto plain =
      client_->Send("GET", "/v1/tokens", "", {{"Authorization", "Bearer " + admin_token_}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 200) << plain->body;
}

TEST_F(HttpsTest, StateChangesAreDeliveredAsSignedWebhooks) {
  // A receiver with a certificate from the verifier's own CA.
  auto ca = verifier::CertificateAuthority::Load(state_dir_ + "/ca.pem", state_dir_ + "/ca.key");
  ASSERT_TRUE(ca.ok()) << ca.error().ToString();
  auto issued = ca->IssueServerCertificate({"127.0.0.1"}, dir_.File("hook.key"),
                                           std::chrono::hours(1), clock_.Now());
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  std::ofstream(dir_.File("hook.pem")) << issued->chain_pem;
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<http::Request> received;
  http::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.certificate_chain_path = dir_.File("hook.pem");
  options.private_key_path = dir_.File("hook.key");
  auto receiver = http::Server::Start(options, [&](const http::Request& request) {
    std::lock_guard lock(mutex);
    received.push_back(request);
    arrived.notify_all();
    return http::Response{};
  });
  ASSERT_TRUE(receiver.ok()) << receiver.error().ToString();
  config_.webhooks = {{"https://127.0.0.1:" + std::to_string((*receiver)->port()) + "/hook",
                       state_dir_ + "/ca.pem"}};
  Open();

  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Attest(node);
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(
        arrived.wait_for(lock, std::chrono::seconds(20), [&] { return received.size() >= 2; }));
  }
  std::string key_pem = Expect(200, "GET", "/v1/webhooks/key").get<std::string>();
  auto key = signer::ParsePublicKey(key_pem, "webhook key");
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  std::lock_guard lock(mutex);
  bool saw_trusted = false;
  for (const http::Request& request : received) {
    EXPECT_EQ(request.path, "/hook");
    auto signature_header = request.Header("x-attest-signature");
    ASSERT_TRUE(signature_header.has_value());
    Bytes signature = Base64Decode(*signature_header).value();
    EXPECT_TRUE(Ed25519Verify(key->key, AsBytes(request.body), signature)) << request.body;
    Bytes tampered = ToBytes(request.body + " ");
    EXPECT_FALSE(Ed25519Verify(key->key, tampered, signature));
    Json event = ParseJsonStrict(request.body).value();
    EXPECT_EQ(event["node_id"], node.node_id());
    if (event["state"] == "trusted") saw_trusted = true;
  }
  EXPECT_TRUE(saw_trusted);
  Close();
  (*receiver)->Drain(std::chrono::seconds(1));
}

// A dead receiver delays nothing: attestations answer at once.
TEST_F(HttpsTest, ADeadReceiverNeverDelaysAttestation) {
  config_.webhooks = {{"https://127.0.0.1:1/hook", state_dir_ + "/ca.pem"}};
  Open();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Attest(node)["state"], "trusted");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace attest::service::test
