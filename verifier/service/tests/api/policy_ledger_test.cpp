// PUT /v1/policy (an admin token and a signer envelope by a policy key,
// serials only increasing), runtime approvals read from the ledger, the
// ledger endpoints (entries, checkpoint, proofs, export, each checked with
// the ledger's own verification) and the Prometheus metrics.
#include <algorithm>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/ledger/checkpoint.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/merkle.h"
#include "attest/ledger/verify.h"
#include "attest/signer/envelope.h"
#include "attest/signer/public_key.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

class PolicyLedgerTest : public ServiceTest {
 protected:
  void UsePolicyKey() {
    policy_key_.emplace(Ed25519PrivateKey::Generate().value());
    const std::string path = dir_.File("admin.pub");
    std::ofstream(path) << signer::EncodePublicKeyPem(policy_key_->public_key());
    config_.policy_keys = {path};
    Open();
  }

  // The policy in force with `serial`, and an envelope over it by `key`.
  std::string PutBody(std::uint64_t serial, const Ed25519PrivateKey& key,
                      signer::Purpose purpose = signer::Purpose::kPolicy) {
    Json policy = Expect(200, "GET", "/v1/policy", "", admin_token_)["policy"];
    policy["serial"] = serial;
    const std::string document = policy.dump(2);
    signer::Envelope envelope;
    envelope.path = "policy.json";
    envelope.sha256 = Sha256Of(AsBytes(document));
    envelope.size = document.size();
    envelope.purpose = purpose;
    envelope.time = FormatRfc3339Utc(clock_.Now());
    EXPECT_TRUE(signer::SignEnvelope(envelope, key).ok());
    return Json{{"policy", document}, {"envelope", signer::SerializeEnvelope(envelope).value()}}
        .dump();
  }

  std::optional<Ed25519PrivateKey> policy_key_;
};

TEST_F(PolicyLedgerTest, ASignedPolicyWithAHigherSerialIsApplied) {
  UsePolicyKey();
  Json applied = Expect(200, "PUT", "/v1/policy", PutBody(1, *policy_key_), admin_token_);
  EXPECT_EQ(applied["serial"], 1);
  EXPECT_EQ(applied["signed"], true);
  EXPECT_EQ(Expect(200, "GET", "/v1/policy", "", MakeToken(Role::kReader))["serial"], 1);
  std::vector<std::string> kinds = LedgerKinds();
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "policy.applied"), 2);
  // It survives a restart, and the file policy does not come back.
  Open();
  EXPECT_EQ(Expect(200, "GET", "/v1/policy", "", admin_token_)["serial"], 1);
}

TEST_F(PolicyLedgerTest, RollbackUnsignedAndWronglySignedPoliciesAreRefused) {
  UsePolicyKey();
  Expect(200, "PUT", "/v1/policy", PutBody(5, *policy_key_), admin_token_);
  for (std::uint64_t serial : {5u, 4u, 0u}) {
    http::Response rollback =
        Call("PUT", "/v1/policy", PutBody(serial, *policy_key_), admin_token_);
    EXPECT_EQ(rollback.status, 409) << serial;
    EXPECT_EQ(ErrorCodeOf(rollback), "POLICY_ROLLBACK");
  }
  Ed25519PrivateKey stranger = Ed25519PrivateKey::Generate().value();
  http::Response untrusted = Call("PUT", "/v1/policy", PutBody(6, stranger), admin_token_);
  EXPECT_EQ(untrusted.status, 403);
  EXPECT_EQ(ErrorCodeOf(untrusted), "POLICY_SIGNATURE_REJECTED");
  http::Response purpose =
      Call("PUT", "/v1/policy", PutBody(6, *policy_key_, signer::Purpose::kConfig), admin_token_);
  EXPECT_EQ(purpose.status, 403);
  // The signed bytes are the policy's: a changed document is refused.
  Json body = ParseJsonStrict(PutBody(6, *policy_key_)).value();
  body["policy"] = body["policy"].get<std::string>() + " ";
  EXPECT_EQ(Call("PUT", "/v1/policy", body.dump(), admin_token_).status, 403);
  // A signed policy still needs the admin role.
  EXPECT_EQ(Call("PUT", "/v1/policy", PutBody(6, *policy_key_), MakeToken(Role::kOperator)).status,
            403);
  EXPECT_EQ(Expect(200, "GET", "/v1/policy", "", admin_token_)["serial"], 5);
}

TEST_F(PolicyLedgerTest, TheLedgerEndpointsServeWhatTheLedgerVerifies) {
  Enroll(*nodes_[0]);
  Attest(*nodes_[0]);
  const std::string reader = MakeToken(Role::kReader);
  Json entries = Expect(200, "GET", "/v1/ledger/entries?from=1&to=100", "", reader);
  const std::uint64_t size = entries["size"];
  ASSERT_EQ(entries["entries"].size(), size);
  EXPECT_EQ(entries["entries"][2]["kind"], "node.enrolled");
  EXPECT_EQ(Call("GET", "/v1/ledger/entries?from=1&to=5000", "", reader).status, 400);

  auto ledger = ledger::Ledger::Open(state_dir_ + "/ledger.db", {.read_only = true}).value();
  std::string note = Expect(200, "GET", "/v1/ledger/checkpoint", "", reader).get<std::string>();
  auto checkpoint = ledger::OpenCheckpoint(note, ledger.checkpoint_key());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().ToString() << "\n" << note;
  EXPECT_EQ(checkpoint->tree_size, size);

  Json inclusion = Expect(200, "GET", "/v1/ledger/proofs/inclusion?seq=3", "", reader);
  std::vector<ledger::Hash> path;
  for (const Json& hash : inclusion["proof"]) {
    ledger::Hash value{};
    ASSERT_TRUE(DecodeLowercaseHex(hash.get<std::string>(), value));
    path.push_back(value);
  }
  ledger::Hash leaf{};
  ASSERT_TRUE(DecodeLowercaseHex(inclusion["leaf_hash"].get<std::string>(), leaf));
  EXPECT_TRUE(ledger::VerifyInclusion(2, size, leaf, path, checkpoint->root_hash).ok());
  EXPECT_EQ(Call("GET", "/v1/ledger/proofs/inclusion?seq=0", "", reader).status, 400);
  EXPECT_EQ(Call("GET", "/v1/ledger/proofs/inclusion?seq=x", "", reader).status, 400);

  Json consistency = Expect(
      200, "GET", "/v1/ledger/proofs/consistency?from=2&to=" + std::to_string(size), "", reader);
  EXPECT_EQ(consistency["new_root"], HexEncode(checkpoint->root_hash));

  std::string exported = Expect(200, "GET", "/v1/ledger/export", "", reader).get<std::string>();
  std::istringstream input(exported);
  ledger::VerifyReport report;
  ASSERT_TRUE(ledger::VerifyExport(input, ledger.checkpoint_key(), report).ok());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.entries, size);
}

TEST_F(PolicyLedgerTest, MetricsCountAttestationsCertificatesNodesAndTheLedger) {
  Enroll(*nodes_[0]);
  Attest(*nodes_[0]);
  Bytes nonce = Challenge(*nodes_[0]);
  verifier::Evidence evidence = MakeEvidence(*nodes_[0], nonce);
  nodes_[0]->AddCertificateRequest(evidence);
  PostEvidence(*nodes_[0], evidence);
  Call("POST", "/v1/nodes/" + nodes_[0]->node_id() + "/evidence",
       EvidenceText(MakeEvidence(*nodes_[0], Bytes(32, 3))));
  http::Response metrics = Call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4");
  const std::string& text = metrics.body;
  EXPECT_NE(text.find("attestations_total{reason=\"\",result=\"trusted\"} 2"), std::string::npos)
      << text;
  EXPECT_NE(text.find("attestations_total{reason=\"NONCE_UNKNOWN\",result=\"refused\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("attestation_duration_seconds_count 3"), std::string::npos) << text;
  EXPECT_NE(text.find("certificates_issued_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("nodes{state=\"trusted\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ledger_size "), std::string::npos) << text;
}

}  // namespace
}  // namespace attest::service::test
