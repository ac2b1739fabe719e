// Incremental evidence, the runtime half, over real HTTPS on 127.0.0.1: the
// challenge names the runtime cursor the verifier holds for the node's
// boot, the node sends only the entries after it, and any doubt in signed
// evidence is a failure asking for the whole log (RUNTIME_LOG_REQUIRED). Entries before
// the cursor are judged again under the allowlist in force: an approval
// revoked in the ledger makes the node untrusted as a full log would.
#include <algorithm>
#include <csignal>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/http/client.h"
#include "attest/http/server.h"
#include "attest/ledger/ledger.h"
#include "attest/signer/envelope.h"
#include "attest/signer/ledger_records.h"
#include "attest/signer/public_key.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

using ::testing::Contains;

class RuntimeCursorTest : public ServiceTest {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void StopServer() {
    client_.reset();
    if (server_) server_->Drain(std::chrono::seconds(2));
    server_.reset();
  }

  // A restart of the verifier: the service re-opens its state directory.
  void Restart() {
    StopServer();
    Open();
    StartServer();
  }

  void TearDown() override {
    StopServer();
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

  Json ChallengeOver(const SimulatedNode& node) {
    return Send(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  }

  Json PostOver(const SimulatedNode& node, const verifier::Evidence& evidence) {
    return Send(200, "POST", "/v1/nodes/" + node.node_id() + "/evidence", EvidenceText(evidence));
  }

  // What attestd does: leaves out what the challenge says the verifier
  // holds for the boot it is in (`clock`), and sends the rest.
  Json AttestAsAttestd(const SimulatedNode& node,
                       verifier::QuoteClock clock = verifier::test::SafeClock()) {
    Json challenge = ChallengeOver(node);
    const Bytes nonce = HexDecode(challenge["nonce"].get<std::string>()).value();
    const bool same_boot_log = challenge.contains("boot_cache") &&
                               challenge["boot_cache"]["reset_count"] == clock.reset_count &&
                               challenge["boot_cache"]["restart_count"] == clock.restart_count;
    if (challenge.contains("runtime_log_cursor")) {
      const Json& cursor = challenge["runtime_log_cursor"];
      if (cursor["reset_count"] == clock.reset_count &&
          cursor["restart_count"] == clock.restart_count &&
          cursor["entries"].get<std::size_t>() <= node.runtime_entries()) {
        return PostOver(node, MakeEvidenceFrom(node, nonce, cursor["entries"].get<std::uint64_t>(),
                                               !same_boot_log, clock));
      }
    }
    return PostOver(node, MakeEvidence(node, nonce, !same_boot_log, clock));
  }

  // The cursor the challenge names, or -1 without one.
  std::int64_t CursorOf(const SimulatedNode& node) {
    Json challenge = ChallengeOver(node);
    if (!challenge.contains("runtime_log_cursor")) return -1;
    return challenge["runtime_log_cursor"]["entries"].get<std::int64_t>();
  }

  // Signed evidence the verifier cannot explain without what it left out:
  // a recorded failure (the node untrusted) whose reasons start with the
  // resend requests and include `code`.
  static void ExpectResendAsked(const Json& answer, const std::string& code) {
    EXPECT_EQ(answer["verdict"]["trusted"], false) << answer.dump(2);
    EXPECT_EQ(answer["recorded"], true) << answer.dump(2);
    EXPECT_EQ(answer["state"], "untrusted");
    const Json& reasons = answer["verdict"]["reasons"];
    ASSERT_FALSE(reasons.empty()) << answer.dump(2);
    const std::string first = reasons[0]["code"].get<std::string>();
    EXPECT_TRUE(first == "RUNTIME_LOG_REQUIRED" || first == "BOOT_LOG_REQUIRED") << answer.dump(2);
    bool found = false;
    for (const Json& reason : reasons) found |= reason["code"] == code;
    EXPECT_TRUE(found) << answer.dump(2);
  }
};

TEST_F(RuntimeCursorTest, TheRuntimeLogIsSentFromTheCursorAndSurvivesARestart) {
  SimulatedNode& node = *nodes_[0];
  Enroll(node);
  StartServer();
  Json challenge = ChallengeOver(node);
  EXPECT_FALSE(challenge.contains("runtime_log_cursor"));
  Json first = AttestAsAttestd(node);
  ASSERT_EQ(first["verdict"]["trusted"], true) << first.dump(2);
  EXPECT_EQ(first["verdict"]["runtime_log_from_cursor"], false);
  challenge = ChallengeOver(node);
  ASSERT_TRUE(challenge.contains("runtime_log_cursor")) << challenge.dump(2);
  EXPECT_EQ(challenge["runtime_log_cursor"],
            (Json{{"entries", 5}, {"reset_count", 3}, {"restart_count", 0}}));

  node.MeasureMore(3);
  Json incremental = AttestAsAttestd(node);
  EXPECT_EQ(incremental["verdict"]["trusted"], true) << incremental.dump(2);
  EXPECT_EQ(incremental["verdict"]["runtime_log_from_cursor"], true);
  EXPECT_EQ(incremental["verdict"]["boot_log_from_cache"], true);
  EXPECT_EQ(incremental["recorded"], true);
  EXPECT_EQ(CursorOf(node), 8);
  // Nothing new: an empty tail from the same cursor.
  Json unchanged = AttestAsAttestd(node);
  EXPECT_EQ(unchanged["verdict"]["trusted"], true) << unchanged.dump(2);
  EXPECT_EQ(unchanged["verdict"]["runtime_log_from_cursor"], true);
  EXPECT_EQ(CursorOf(node), 8);

  // The cursor is in the node record: a restarted verifier still holds it.
  Restart();
  EXPECT_EQ(CursorOf(node), 8);
  node.MeasureMore(1);
  Json after = AttestAsAttestd(node);
  EXPECT_EQ(after["verdict"]["trusted"], true) << after.dump(2);
  EXPECT_EQ(after["verdict"]["runtime_log_from_cursor"], true);
  EXPECT_EQ(CursorOf(node), 9);
}

// A cursor the verifier does not hold (a wrong count, another boot) in
// signed evidence is a recorded failure, RUNTIME_LOG_REQUIRED first: a
// root attacker could send a broken cursor exactly when the entries after
// it would fail. The node is untrusted and loses its caches until a full
// resend passes.
TEST_F(RuntimeCursorTest, ABrokenCursorIsARecordedFailureUntilTheFullLogPasses) {
  SimulatedNode& node = *nodes_[0];
  Enroll(node);
  StartServer();
  ASSERT_EQ(AttestAsAttestd(node)["verdict"]["trusted"], true);
  ASSERT_EQ(CursorOf(node), 5);
  const std::size_t ledger_size = LedgerKinds().size();
  node.MeasureMore(2);

  Bytes nonce = HexDecode(ChallengeOver(node)["nonce"].get<std::string>()).value();
  ExpectResendAsked(PostOver(node, MakeEvidenceFrom(node, nonce, 4, /*with_boot_log=*/true)),
                    "RUNTIME_LOG_REQUIRED");
  EXPECT_EQ(CursorOf(node), -1);
  std::vector<std::string> kinds = LedgerKinds();
  ASSERT_EQ(kinds.size(), ledger_size + 2);
  EXPECT_EQ(kinds[ledger_size], "attestation.failed");
  EXPECT_EQ(kinds[ledger_size + 1], "node.untrusted");

  // Without a held cursor every cursor is broken: a count past the log's,
  // and the right count quoted in another boot.
  nonce = HexDecode(ChallengeOver(node)["nonce"].get<std::string>()).value();
  ExpectResendAsked(PostOver(node, MakeEvidenceFrom(node, nonce, 6, /*with_boot_log=*/true)),
                    "RUNTIME_LOG_REQUIRED");
  nonce = HexDecode(ChallengeOver(node)["nonce"].get<std::string>()).value();
  ExpectResendAsked(PostOver(node, MakeEvidenceFrom(node, nonce, 5, /*with_boot_log=*/true,
                                                         verifier::test::SafeClock(4))),
                    "RUNTIME_LOG_REQUIRED");

  nonce = HexDecode(ChallengeOver(node)["nonce"].get<std::string>()).value();
  Json resent = PostOver(node, MakeEvidence(node, nonce, /*with_boot_log=*/true));
  EXPECT_EQ(resent["verdict"]["trusted"], true) << resent.dump(2);
  EXPECT_EQ(resent["state"], "trusted");
  EXPECT_EQ(resent["verdict"]["runtime_log_from_cursor"], false);
  EXPECT_EQ(CursorOf(node), 7);
}

// After a reboot the held cursor is of another boot: a node that sends
// from it anyway fails, asked for both logs; attestd, seeing the boot
// differ, sends them whole, and the cursor starts again in the new boot.
TEST_F(RuntimeCursorTest, ARebootIsACacheMiss) {
  SimulatedNode& node = *nodes_[0];
  Enroll(node);
  StartServer();
  ASSERT_EQ(AttestAsAttestd(node)["verdict"]["trusted"], true);
  ASSERT_EQ(CursorOf(node), 5);
  node.RestartRuntimeLog(7);
  const verifier::QuoteClock rebooted = verifier::test::SafeClock(4);
  Bytes nonce = HexDecode(ChallengeOver(node)["nonce"].get<std::string>()).value();
  Json stale = PostOver(node, MakeEvidenceFrom(node, nonce, 5, /*with_boot_log=*/false, rebooted));
  ExpectResendAsked(stale, "RUNTIME_LOG_REQUIRED");
  ExpectResendAsked(stale, "BOOT_LOG_REQUIRED");

  Json full = AttestAsAttestd(node, rebooted);
  EXPECT_EQ(full["verdict"]["trusted"], true) << full.dump(2);
  EXPECT_EQ(full["verdict"]["runtime_log_from_cursor"], false);
  Json challenge = ChallengeOver(node);
  EXPECT_EQ(challenge["runtime_log_cursor"],
            (Json{{"entries", 7}, {"reset_count", 4}, {"restart_count", 0}}));
}

// The soundness trap. The policy approves runtime-1 only through a signer's
// ledger approval; the node is trusted and its cursor passes runtime-1.
// Then the approval is revoked. The node never sends runtime-1 again, yet
// its next attestation from the cursor is untrusted for it, the failure is
// recorded, and the cursor is dropped.
TEST_F(RuntimeCursorTest, AnApprovalRevokedBeforeTheCursorMakesTheNodeUntrusted) {
  SimulatedNode& node = *nodes_[0];
  const runtime::RuntimeEntry early = verifier::test::ExampleRuntimeLog(5).entries[1];
  Ed25519PrivateKey admin = Ed25519PrivateKey::Generate().value();
  Ed25519PrivateKey releaser = Ed25519PrivateKey::Generate().value();
  std::ofstream(dir_.File("admin.pub")) << signer::EncodePublicKeyPem(admin.public_key());
  std::ofstream(dir_.File("releaser.pub")) << signer::EncodePublicKeyPem(releaser.public_key());
  config_.policy_keys = {dir_.File("admin.pub")};
  config_.approval_keys = {dir_.File("releaser.pub")};
  Open();
  // A signed policy whose inline allowlist lacks runtime-1's digest.
  Json policy = Expect(200, "GET", "/v1/policy", "", admin_token_)["policy"];
  policy["serial"] = 1;
  Json& allowed = policy["runtime"]["allowed_digests"];
  const std::string early_hex = HexEncode(AsBytes(early.sha256));
  allowed.erase(std::remove(allowed.begin(), allowed.end(), Json(early_hex)), allowed.end());
  const std::string document = policy.dump(2);
  signer::Envelope policy_envelope;
  policy_envelope.path = "policy.json";
  policy_envelope.sha256 = Sha256Of(AsBytes(document));
  policy_envelope.size = document.size();
  policy_envelope.purpose = signer::Purpose::kPolicy;
  policy_envelope.time = FormatRfc3339Utc(clock_.Now());
  ASSERT_TRUE(signer::SignEnvelope(policy_envelope, admin).ok());
  Expect(
      200, "PUT", "/v1/policy",
      Json{{"policy", document}, {"envelope", signer::SerializeEnvelope(policy_envelope).value()}}
          .dump(),
      admin_token_);
  Close();
  // The release engineer's approval of runtime-1, in the verifier's ledger.
  {
    auto ledger = ledger::Ledger::Open(state_dir_ + "/ledger.db", {.clock = &clock_}).value();
    signer::Envelope approval;
    approval.path = early.path;
    approval.sha256 = early.sha256;
    approval.size = early.size;
    approval.purpose = signer::Purpose::kArtifact;
    approval.time = FormatRfc3339Utc(clock_.Now());
    ASSERT_TRUE(signer::SignEnvelope(approval, releaser).ok());
    ASSERT_TRUE(signer::SubmitEnvelope(ledger, approval, "release").ok());
  }
  Open();
  Enroll(node);
  StartServer();
  Json first = AttestAsAttestd(node);
  ASSERT_EQ(first["verdict"]["trusted"], true) << first.dump(2);
  node.MeasureMore(2);
  ASSERT_EQ(AttestAsAttestd(node)["verdict"]["runtime_log_from_cursor"], true);
  ASSERT_EQ(CursorOf(node), 7);

  StopServer();
  Close();
  clock_.Advance(std::chrono::seconds(10));
  {
    auto ledger = ledger::Ledger::Open(state_dir_ + "/ledger.db", {.clock = &clock_}).value();
    ASSERT_TRUE(
        signer::RevokeArtifact(ledger, early.sha256, releaser, "withdrawn", clock_.Now(), "release")
            .ok());
  }
  Open();
  StartServer();
  ASSERT_EQ(CursorOf(node), 7);
  node.MeasureMore(1);
  Json revoked = AttestAsAttestd(node);
  EXPECT_EQ(revoked["verdict"]["trusted"], false) << revoked.dump(2);
  EXPECT_EQ(revoked["verdict"]["runtime_log_from_cursor"], true);
  EXPECT_EQ(revoked["recorded"], true);
  EXPECT_EQ(revoked["state"], "untrusted");
  Json failures = Json::array();
  for (const Json& reason : revoked["verdict"]["reasons"]) {
    if (!reason.contains("informational")) failures.push_back(reason);
  }
  ASSERT_EQ(failures.size(), 1u) << revoked.dump(2);
  EXPECT_EQ(failures[0]["code"], "RUNTIME_NOT_APPROVED");
  EXPECT_EQ(failures[0]["path"], early.path);
  EXPECT_EQ(CursorOf(node), -1);
  EXPECT_THAT(LedgerKinds(), Contains("attestation.failed"));
  // The full log says the same.
  Bytes nonce = HexDecode(ChallengeOver(node)["nonce"].get<std::string>()).value();
  Json full = PostOver(node, MakeEvidence(node, nonce, /*with_boot_log=*/true));
  EXPECT_EQ(full["verdict"]["reasons"], revoked["verdict"]["reasons"]);
}

}  // namespace
}  // namespace attest::service::test
