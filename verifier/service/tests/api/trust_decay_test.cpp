// Trust decays (review H2b) over real HTTPS: a node that stops attesting
// turns untrusted (ATTESTATION_STALE) once its last trusted attestation is
// older than the maximum age: certificates revoked, the CRL regenerated, a
// ledger entry and a webhook. The listings never show it trusted past its
// deadline; the background sweep does it without any request.
#include "trust_decay.h"

#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/http/client.h"
#include "attest/http/server.h"
#include "attest/verifier/certificate_authority.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

using std::chrono::seconds;
using ::testing::Contains;

class TrustDecayTest : public ServiceTest {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  // A webhook receiver with a certificate from the verifier's CA.
  void StartReceiver() {
    auto ca = verifier::CertificateAuthority::Load(state_dir_ + "/ca.pem", state_dir_ + "/ca.key");
    ASSERT_TRUE(ca.ok()) << ca.error().ToString();
    auto issued = ca->IssueServerCertificate({"127.0.0.1"}, dir_.File("hook.key"),
                                             std::chrono::hours(1), clock_.Now());
    ASSERT_TRUE(issued.ok()) << issued.error().ToString();
    std::ofstream(dir_.File("hook.pem")) << issued->chain_pem;
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.certificate_chain_path = dir_.File("hook.pem");
    options.private_key_path = dir_.File("hook.key");
    auto receiver = http::Server::Start(options, [this](const http::Request& request) {
      std::lock_guard lock(mutex_);
      Result<Json> hook = ParseJsonStrict(request.body);
      hooks_.push_back(hook.ok() ? *hook : Json());
      arrived_.notify_all();
      return http::Response{};
    });
    ASSERT_TRUE(receiver.ok()) << receiver.error().ToString();
    receiver_ = std::move(receiver).value();
    config_.webhooks = {{"https://127.0.0.1:" + std::to_string(receiver_->port()) + "/hook",
                         state_dir_ + "/ca.pem"}};
  }

  // The webhook telling `state` for the node, within 20 s.
  Json AwaitHook(const std::string& state) {
    std::unique_lock lock(mutex_);
    Json found;
    arrived_.wait_for(lock, seconds(20), [&] {
      for (const Json& hook : hooks_) {
        if (hook.value("state", "") == state) found = hook;
      }
      return !found.is_null();
    });
    return found;
  }

  // The HTTPS server stopped as `verifier serve` stops on SIGTERM.
  void StopServing() {
    client_.reset();
    if (server_) server_->Drain(seconds(2));
    server_.reset();
  }

  void TearDown() override {
    StopServing();
    ServiceTest::TearDown();
    if (receiver_) receiver_->Drain(seconds(1));
  }

  Json Send(int status, const std::string& method, const std::string& target,
            const std::string& body = "", const std::string& token = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    auto response = client_->Send(method, target, body, headers);
    EXPECT_TRUE(response.ok()) << response.error().ToString();
    if (!response.ok()) return Json();
    EXPECT_EQ(response->status, status) << target << ": " << response->body;
    ExpectFollowsContract(method, target, response->status, response->content_type, response->body);
    auto json = ParseJsonStrict(response->body);
    return json.ok() ? *json : Json(response->body);
  }

  // Challenge and evidence (with a CSR) over HTTPS; the evidence answer.
  Json AttestOverHttps(const SimulatedNode& node) {
    Json challenge = Send(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
    Result<Bytes> nonce = HexDecode(challenge.value("nonce", ""));
    EXPECT_TRUE(nonce.ok()) << challenge.dump();
    verifier::Evidence evidence = MakeEvidence(node, nonce.ok() ? *nonce : Bytes(32, 0));
    node.AddCertificateRequest(evidence);
    return Send(200, "POST", "/v1/nodes/" + node.node_id() + "/evidence", EvidenceText(evidence));
  }

  std::string ListedState(const std::string& node_id, const std::string& token) {
    Json listed = Send(200, "GET", "/v1/nodes", "", token);
    for (const Json& node : listed["nodes"]) {
      if (node["node_id"] == node_id) return node["state"];
    }
    return "(not listed)";
  }

  std::unique_ptr<http::Server> receiver_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Json> hooks_;
};

// The policy's interval is 60 s and its nonce lifetime 30 s: the derived
// maximum age is max(3 x 60, 60 + 30 + 30) = 180 s.
TEST_F(TrustDecayTest, ANodeThatStopsAttestingTurnsUntrustedAndLosesItsCertificates) {
  StartReceiver();
  Open();
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Json issued = AttestOverHttps(node);
  ASSERT_EQ(issued["state"], "trusted") << issued.dump(2);
  ASSERT_TRUE(issued.contains("certificate_chain"));
  std::string reader = MakeToken(Role::kReader);
  std::string crl_before = Send(200, "GET", "/v1/ca/crl").get<std::string>();

  // Attesting keeps it trusted: the age counts from the last trusted verdict.
  clock_.Advance(seconds(120));
  ASSERT_EQ(AttestOverHttps(node)["state"], "trusted");
  const std::string challenges = "/v1/nodes/" + node.node_id() + "/challenges";
  ASSERT_TRUE(Send(201, "POST", challenges).contains("runtime_log_cursor"));
  clock_.Advance(seconds(179));
  EXPECT_EQ(ListedState(node.node_id(), reader), "trusted");

  clock_.Advance(seconds(2));
  // Read at once, before any sweep could run: never shown trusted.
  EXPECT_EQ(ListedState(node.node_id(), reader), "untrusted");
  Json shown = Send(200, "GET", "/v1/nodes/" + node.node_id(), "", reader);
  EXPECT_EQ(shown["state"], "untrusted");
  EXPECT_EQ(shown["boot_log_cached"], false);
  // Nor the runtime log: silence says nothing of what runs now.
  EXPECT_FALSE(Send(201, "POST", challenges).contains("runtime_log_cursor"));
  ASSERT_EQ(shown["certificates"].size(), 2u);
  for (const Json& certificate : shown["certificates"]) EXPECT_EQ(certificate["revoked"], true);
  std::string crl_after = Send(200, "GET", "/v1/ca/crl").get<std::string>();
  EXPECT_NE(crl_after, crl_before);
  ASSERT_TRUE(WriteFileAtomically(dir_.File("crl.pem"), crl_after, 0644).ok());
  auto text = attest::test::RunCommand({"openssl", "crl", "-in", dir_.File("crl.pem"), "-noout",
                                        "-text", "-CAfile", state_dir_ + "/ca.pem"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  std::string serial = shown["certificates"][0]["serial"];
  for (char& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NE(text.out.find(serial), std::string::npos) << serial << "\n" << text.out;

  EXPECT_THAT(LedgerKinds(), Contains("node.untrusted"));
  EXPECT_THAT(LedgerKinds(), Contains("cert.revoked"));
  Json hook = AwaitHook("untrusted");
  EXPECT_EQ(hook.value("reason", ""), "ATTESTATION_STALE") << hook.dump();
  EXPECT_EQ(hook.value("node_id", ""), node.node_id());

  // A fresh attestation (in full: the boot cache went with the trust) restores it.
  EXPECT_EQ(AttestOverHttps(node)["state"], "trusted");
}

// No request at all: the service's own sweep turns the node untrusted.
TEST_F(TrustDecayTest, TheBackgroundSweepExpiresANodeWithoutAnyRequest) {
  config_.trust_max_age = seconds(30);
  Open();
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  ASSERT_EQ(AttestOverHttps(node)["state"], "trusted");
  clock_.Advance(seconds(31));
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  std::vector<std::string> kinds;
  while (std::chrono::steady_clock::now() < deadline) {
    kinds = LedgerKinds();
    if (std::find(kinds.begin(), kinds.end(), "node.untrusted") != kinds.end()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(kinds, Contains("node.untrusted"));
  EXPECT_THAT(kinds, Contains("cert.revoked"));
}

// Trusted nodes found at open count from their last attestation: a
// verifier down longer than the maximum age finds them stale.
TEST_F(TrustDecayTest, NodesTrustedBeforeARestartStillDecay) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  ASSERT_EQ(AttestOverHttps(node)["state"], "trusted");
  StopServing();
  Open();
  clock_.Advance(seconds(181));
  StartServer();
  std::string reader = MakeToken(Role::kReader);
  EXPECT_EQ(Send(200, "GET", "/v1/nodes/" + node.node_id(), "", reader)["state"], "untrusted");
}

// A verifier down for longer than the maximum age: its nodes could not
// attest meanwhile, so each gets one maximum age from the start to do so,
// instead of the whole fleet revoked by the first sweep.
TEST_F(TrustDecayTest, AfterALongOutageNodesGetOneMaxAgeFromTheStart) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  ASSERT_EQ(AttestOverHttps(node)["state"], "trusted");
  StopServing();
  clock_.Advance(seconds(3600));
  Open();
  StartServer();
  std::string reader = MakeToken(Role::kReader);
  EXPECT_EQ(Send(200, "GET", "/v1/nodes/" + node.node_id(), "", reader)["state"], "trusted");
  clock_.Advance(seconds(179));
  EXPECT_EQ(Send(200, "GET", "/v1/nodes/" + node.node_id(), "", reader)["state"], "trusted");
  clock_.Advance(seconds(2));
  EXPECT_EQ(Send(200, "GET", "/v1/nodes/" + node.node_id(), "", reader)["state"], "untrusted");
}

// Index updates run after their commits, in any order: the older of two
// never undoes the newer. A Forget of an untrusted version arriving after
// a later trusted commit's update would otherwise drop a trusted node from
// the index, and its trust would never decay.
TEST(TrustDeadlinesTest, AnOlderUpdateNeverUndoesANewerOne) {
  api::TrustDeadlines deadlines;
  const TimePoint start = std::chrono::system_clock::now();
  const TimePoint later = start + seconds(5);
  deadlines.Trusted("node", start, 3);
  deadlines.Forget("node", 2);  // a failure committed before version 3
  EXPECT_EQ(deadlines.Due(later), std::vector<std::string>{"node"});
  deadlines.Forget("node", 4);
  EXPECT_TRUE(deadlines.Due(later).empty());
  deadlines.Trusted("node", start, 3);  // the trusted commit's update, late
  EXPECT_TRUE(deadlines.Due(later).empty());
  deadlines.Trusted("node", start + seconds(1), 5);
  EXPECT_EQ(deadlines.Due(later), std::vector<std::string>{"node"});
  EXPECT_TRUE(deadlines.Due(start + seconds(1)).empty());  // due strictly before its cutoff
  deadlines.Drop("node");
  EXPECT_TRUE(deadlines.Due(later).empty());
  deadlines.Trusted("node", start, 1);  // a node enrolled again from version 0
  EXPECT_EQ(deadlines.Due(later), std::vector<std::string>{"node"});
}

}  // namespace
}  // namespace attest::service::test
