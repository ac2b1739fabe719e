// Attacks on the attestation path over real HTTPS (attest_http's server
// and clients on 127.0.0.x), each fixed in the service: signed evidence of
// another boot that leaves out its boot log, a node that stops attesting,
// a stranger's evidence made expensive, a stranger's challenges crowding
// out a node's, and a failure lost to a race for the node's record.
#include <atomic>
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
#include "attest/service/operations.h"
#include "attest/verifier/certificate_authority.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

using ::testing::Contains;
using ::testing::Not;

struct Answer {
  int status = 0;
  Json body;
};

class AttestationAttackTest : public ServiceTest {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  // A client connecting from `local_address` (any 127.0.0.0/8 address is
  // the loopback's): two of them are two client addresses to the server.
  std::unique_ptr<http::Client> Connect(const std::string& local_address) {
    http::ClientOptions options;
    options.port = server_->port();
    options.ca_bundle_path = state_dir_ + "/ca.pem";
    options.local_address = local_address;
    auto connected = http::Client::Connect(options);
    EXPECT_TRUE(connected.ok()) << connected.error().ToString();
    return connected.ok() ? std::move(connected).value() : nullptr;
  }

  void TearDown() override {
    if (server_) server_->Drain(std::chrono::seconds(2));
    server_.reset();
    ServiceTest::TearDown();
  }

  static Answer Send(http::Client& client, const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& token = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    auto response = client.Send(method, target, body, headers);
    EXPECT_TRUE(response.ok()) << response.error().ToString();
    if (!response.ok()) return {};
    ExpectFollowsContract(method, target, response->status, response->content_type, response->body);
    auto json = ParseJsonStrict(response->body);
    return {response->status, json.ok() ? *json : Json(response->body)};
  }

  static Answer AskChallenge(http::Client& client, const SimulatedNode& node) {
    return Send(client, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  }
  static Bytes NonceOf(const Answer& challenge) {
    EXPECT_EQ(challenge.status, 201) << challenge.body.dump();
    Result<Bytes> nonce = HexDecode(challenge.body.value("nonce", ""));
    return nonce.ok() ? *nonce : Bytes(32, 0);
  }
  static Answer Post(http::Client& client, const SimulatedNode& node,
                     const verifier::Evidence& evidence) {
    return Send(client, "POST", "/v1/nodes/" + node.node_id() + "/evidence",
                EvidenceText(evidence));
  }
  // A challenge and evidence with a CSR: the node ends trusted with a certificate.
  void AttestWithCertificate(http::Client& client, const SimulatedNode& node,
                             verifier::QuoteClock clock = verifier::test::SafeClock()) {
    Bytes nonce = NonceOf(AskChallenge(client, node));
    verifier::Evidence evidence = MakeEvidence(node, nonce, true, clock);
    node.AddCertificateRequest(evidence);
    Answer answer = Post(client, node, evidence);
    ASSERT_EQ(answer.status, 200);
    ASSERT_EQ(answer.body["state"], "trusted") << answer.body.dump(2);
    ASSERT_TRUE(answer.body.contains("certificate_chain"));
  }

  static std::vector<std::string> ReasonCodes(const Json& verdict) {
    std::vector<std::string> codes;
    for (const Json& reason : verdict["reasons"]) codes.push_back(reason["code"]);
    return codes;
  }
};

// H2a: the node's AK signs a quote of a new boot (resetCount 4) but the
// evidence leaves out the boot log. Before, nothing was recorded and the
// node stayed trusted with its certificate; now it is a failure that asks
// for the full evidence, and the full evidence restores trust.
TEST_F(AttestationAttackTest, SignedEvidenceOfARebootWithoutItsBootLogIsAFailure) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto client = Connect("127.0.0.1");
  ASSERT_TRUE(client);
  AttestWithCertificate(*client, node);

  Bytes nonce = NonceOf(AskChallenge(*client, node));
  Answer rebooted =
      Post(*client, node, MakeEvidence(node, nonce, false, verifier::test::SafeClock(4)));
  ASSERT_EQ(rebooted.status, 200);
  EXPECT_EQ(rebooted.body["recorded"], true);
  EXPECT_EQ(rebooted.body["state"], "untrusted");
  std::vector<std::string> codes = ReasonCodes(rebooted.body["verdict"]);
  ASSERT_FALSE(codes.empty());
  EXPECT_EQ(codes[0], "BOOT_LOG_REQUIRED");
  EXPECT_THAT(codes, Not(Contains("BOOT_POLICY_VIOLATION")));

  std::string reader = MakeToken(Role::kReader);
  Answer shown = Send(*client, "GET", "/v1/nodes/" + node.node_id(), "", reader);
  EXPECT_EQ(shown.body["state"], "untrusted");
  EXPECT_EQ(shown.body["boot_log_cached"], false);
  ASSERT_EQ(shown.body["certificates"].size(), 1u);
  EXPECT_EQ(shown.body["certificates"][0]["revoked"], true);
  EXPECT_EQ(shown.body["last_verdict"]["reasons"][0]["code"], "BOOT_LOG_REQUIRED");
  std::vector<std::string> kinds = LedgerKinds();
  EXPECT_THAT(kinds, Contains("attestation.failed"));
  EXPECT_THAT(kinds, Contains("node.untrusted"));
  EXPECT_THAT(kinds, Contains("cert.revoked"));

  // The full evidence of the new boot brings the node back.
  nonce = NonceOf(AskChallenge(*client, node));
  Answer resent =
      Post(*client, node, MakeEvidence(node, nonce, true, verifier::test::SafeClock(4)));
  EXPECT_EQ(resent.body["state"], "trusted") << resent.body.dump(2);
  EXPECT_EQ(resent.body["recorded"], true);
}

// H2a: the same boot (same counters) but a boot PCR the AK quotes with a
// value other than the cached one, and no boot log to explain it.
TEST_F(AttestationAttackTest, SignedEvidenceOfChangedBootPcrsWithoutItsBootLogIsAFailure) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto client = Connect("127.0.0.1");
  ASSERT_TRUE(client);
  AttestWithCertificate(*client, node);

  Bytes nonce = NonceOf(AskChallenge(*client, node));
  verifier::Evidence changed = MakeEvidence(node, nonce, false);
  ASSERT_FALSE(changed.pcrs.empty());
  Bytes& first_pcr = changed.pcrs.begin()->second.begin()->second;
  first_pcr[0] ^= 1;
  changed.attest =
      node.ak().MakeAttest(selection_, changed.pcrs, nonce, verifier::test::SafeClock());
  changed.signature = node.ak().Sign(changed.attest);
  Answer answer = Post(*client, node, changed);
  EXPECT_EQ(answer.body["recorded"], true);
  EXPECT_EQ(answer.body["state"], "untrusted");
  EXPECT_EQ(ReasonCodes(answer.body["verdict"]).at(0), "BOOT_LOG_REQUIRED");
  EXPECT_THAT(LedgerKinds(), Contains("cert.revoked"));
}

// Evidence without a valid AK signature still changes nothing, boot log or not.
TEST_F(AttestationAttackTest, UnsignedEvidenceWithoutABootLogChangesNothing) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto client = Connect("127.0.0.1");
  ASSERT_TRUE(client);
  AttestWithCertificate(*client, node);
  const std::size_t entries = LedgerKinds().size();
  Bytes nonce = NonceOf(AskChallenge(*client, node));
  verifier::Evidence forged = MakeEvidence(node, nonce, false, verifier::test::SafeClock(4));
  forged.signature.back() ^= 1;
  Answer answer = Post(*client, node, forged);
  EXPECT_EQ(answer.body["recorded"], false);
  EXPECT_EQ(answer.body["state"], "trusted");
  EXPECT_EQ(LedgerKinds().size(), entries);
}

// M1: a stranger's 11 MiB malformed boot log under a bad signature is
// refused on the signature alone: no boot log reason shows it was read.
// The node's own (signed) evidence with the same log gets it parsed.
TEST_F(AttestationAttackTest, UnsignedEvidenceIsRefusedBeforeItsLogsAreRead) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto client = Connect("127.0.0.1");
  ASSERT_TRUE(client);
  const Bytes garbage(std::size_t{11} << 20, 0xa5);

  Bytes nonce = NonceOf(AskChallenge(*client, node));
  verifier::Evidence forged = MakeEvidence(node, nonce);
  forged.boot_log = garbage;
  forged.signature.back() ^= 1;
  auto started = std::chrono::steady_clock::now();
  Answer refused = Post(*client, node, forged);
  auto refused_in = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(refused.status, 200);
  EXPECT_EQ(refused.body["recorded"], false);
  EXPECT_EQ(refused.body["state"], "enrolled");
  EXPECT_EQ(ReasonCodes(refused.body["verdict"]), std::vector<std::string>{"SIGNATURE_INVALID"});

  nonce = NonceOf(AskChallenge(*client, node));
  verifier::Evidence signed_garbage = MakeEvidence(node, nonce);
  signed_garbage.boot_log = garbage;
  started = std::chrono::steady_clock::now();
  Answer parsed = Post(*client, node, signed_garbage);
  auto parsed_in = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(parsed.body["recorded"], true);
  EXPECT_THAT(ReasonCodes(parsed.body["verdict"]), Contains("BOOT_LOG_MALFORMED"));
  std::cout << "11 MiB boot log: refused unsigned in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(refused_in).count()
            << " ms, verified signed in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(parsed_in).count() << " ms\n";
}

// M2: a stranger (127.0.0.2) asking for node X's challenges over and over
// neither voids X's outstanding challenge nor leaves X (127.0.0.1) without one.
TEST_F(AttestationAttackTest, AStrangersChallengesNeverVoidTheNodesOwn) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto honest = Connect("127.0.0.1");
  auto stranger = Connect("127.0.0.2");
  ASSERT_TRUE(honest && stranger);
  Bytes nonce = NonceOf(AskChallenge(*honest, node));
  for (int i = 0; i < 40; ++i) EXPECT_EQ(AskChallenge(*stranger, node).status, 201);
  Answer answer = Post(*honest, node, MakeEvidence(node, nonce));
  ASSERT_EQ(answer.status, 200) << answer.body.dump();
  EXPECT_EQ(answer.body["state"], "trusted");
}

// M2: with a small rate limit, the stranger's flood spends the stranger's
// budget only: the node still gets a challenge and redeems it.
TEST_F(AttestationAttackTest, AStrangersFloodSpendsOnlyTheStrangersRateLimit) {
  config_.rate_limit.per_second = 0.01;
  config_.rate_limit.burst = 6;
  Open();
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto honest = Connect("127.0.0.1");
  auto stranger = Connect("127.0.0.2");
  ASSERT_TRUE(honest && stranger);
  int limited = 0;
  for (int i = 0; i < 20; ++i) {
    if (AskChallenge(*stranger, node).status == 429) ++limited;
  }
  EXPECT_GE(limited, 14);
  Bytes nonce = NonceOf(AskChallenge(*honest, node));
  Answer answer = Post(*honest, node, MakeEvidence(node, nonce));
  ASSERT_EQ(answer.status, 200) << answer.body.dump();
  EXPECT_EQ(answer.body["state"], "trusted");
}

// L10: failing evidence while the node's record keeps changing (an
// operator's allow-reenroll, each a new node version): every failure is
// recorded, with its revocation, however the race goes.
TEST_F(AttestationAttackTest, AFailureThatLosesARaceForTheNodeRecordIsStillRecorded) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto client = Connect("127.0.0.1");
  ASSERT_TRUE(client);
  for (int round = 0; round < 6; ++round) {
    AttestWithCertificate(*client, node);
    Bytes nonce = NonceOf(AskChallenge(*client, node));
    verifier::Evidence evidence = MakeEvidence(node, nonce);
    evidence.runtime_log->entries.back().sha256[0] ^= 1;  // a runtime file nobody approved
    evidence = node.ak().Make(selection_, *evidence.boot_log, *evidence.runtime_log, nonce,
                              verifier::test::SafeClock());
    std::atomic<bool> stop{false};
    std::thread operator_([&] {
      while (!stop) {
        // The operator's change may lose the race too (kBusy): that is the race.
        Status bumped = AllowReenroll(state_dir_, node.node_id(), std::chrono::minutes(10), clock_);
        if (!bumped.ok()) {
          EXPECT_EQ(bumped.error().code, ErrorCode::kBusy) << bumped.error().ToString();
        }
      }
    });
    Answer failed = Post(*client, node, evidence);
    stop = true;
    operator_.join();
    ASSERT_EQ(failed.status, 200) << "round " << round << ": " << failed.body.dump();
    EXPECT_EQ(failed.body["recorded"], true);
    EXPECT_EQ(failed.body["state"], "untrusted");
    std::string reader = MakeToken(Role::kReader);
    Answer shown = Send(*client, "GET", "/v1/nodes/" + node.node_id(), "", reader);
    EXPECT_EQ(shown.body["state"], "untrusted");
    for (const Json& certificate : shown.body["certificates"]) {
      EXPECT_EQ(certificate["revoked"], true) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace attest::service::test

namespace attest::service::test {
namespace {

// A root attacker measures hundreds of unapproved files: a reason each. The
// failure must still commit (untrusted, revoked, in the ledger), keeping the
// first 64 reasons and the count of the others, not fail on the ledger's
// payload limit and leave the node trusted.
TEST_F(AttestationAttackTest, AFailureWithHundredsOfReasonsIsStillRecorded) {
  StartServer();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  AttestWithCertificate(*client_, node);
  const std::size_t entries = kMaxRuntimeEntries + 300;
  Bytes nonce = NonceOf(AskChallenge(*client_, node));
  verifier::Evidence evidence = node.ak().Make(
      selection_, verifier::test::ReadFixture("eventlogs/ovmf-sb-on.bin"),
      verifier::test::ExampleRuntimeLog(entries), nonce, verifier::test::SafeClock());
  Answer answer = Post(*client_, node, evidence);
  ASSERT_EQ(answer.status, 200) << answer.body.dump();
  EXPECT_EQ(answer.body["recorded"], true);
  EXPECT_EQ(answer.body["state"], "untrusted");
  const std::size_t reasons = answer.body["verdict"]["reasons"].size();
  ASSERT_GE(reasons, 300u);  // one per unapproved entry
  EXPECT_THAT(LedgerKinds(), ::testing::Contains("attestation.failed"));
  Json shown = Expect(200, "GET", "/v1/nodes/" + node.node_id(), "", MakeToken(Role::kReader));
  EXPECT_EQ(shown["state"], "untrusted");
  EXPECT_EQ(shown["last_verdict"]["reasons"].size(), 64u);
  EXPECT_EQ(shown["last_verdict"]["reasons_omitted"], reasons - 64);
}

}  // namespace
}  // namespace attest::service::test
