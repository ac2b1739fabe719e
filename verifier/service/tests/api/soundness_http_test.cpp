// The soundness suite's attacks (verifier/testing/soundness_forgeries.cpp)
// replayed through the service over real HTTPS: each forgery's node enrolls
// its AK, asks for a challenge, and posts the forged evidence answering it.
// The service must give exactly the offline verifier's verdict and reasons,
// leave an attacked node untrusted, and record only what the node's own AK
// signed over the challenge. One test per forgery in the list, so a new
// forgery is replayed here without a change. Every forgery today is signed
// by the node's AK over its nonce; evidence signed otherwise, and what it
// must not change, is attestation_attack_test.cpp's.
#include <algorithm>
#include <csignal>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/testing/test_support.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/verify.h"

#include "served_deployment.h"
#include "service_test_support.h"
#include "simulated_node.h"
#include "soundness_forgeries.h"

namespace attest::service::test {
namespace {

using verifier::test::Forgery;
using CodeList = std::vector<std::string>;

CodeList Codes(const verifier::Verdict& verdict) {
  CodeList codes;
  for (const verifier::Reason& reason : verdict.reasons) {
    codes.emplace_back(verifier::ReasonCodeName(reason.code));
  }
  return codes;
}

bool Has(const CodeList& codes, const char* code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

class SoundnessOverHttpsTest : public ::testing::TestWithParam<Forgery> {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  // POST and the parsed body, checked against verifier/openapi.yaml.
  Json Post(http::Client& client, const std::string& target, const std::string& body, int status) {
    auto response = client.Post(target, body);
    EXPECT_TRUE(response.ok()) << response.error().ToString();
    if (!response.ok()) return Json();
    EXPECT_EQ(response->status, status) << target << ": " << response->body;
    ExpectFollowsContract("POST", target, response->status, response->content_type, response->body);
    auto json = ParseJsonStrict(response->body);
    EXPECT_TRUE(json.ok()) << response->body;
    return json.ok() ? *json : Json();
  }

  attest::test::TempDir dir_{"soundness_http"};
};

TEST_P(SoundnessOverHttpsTest, TheServiceGivesTheOfflineVerdict) {
  const Forgery& forgery = GetParam();
  const verifier::Policy policy = verifier::test::ForgeryPolicy(forgery);
  const NodeMeasurements unused;  // the forgery supplies the logs
  SimulatedNode node("soundness.example", unused, EkKind::kEccP256);
  auto deployment = ServedDeployment::Start(dir_.path(), {policy, {node.node_id()}, {}});
  ASSERT_TRUE(deployment.ok()) << deployment.error().ToString();
  http::Client& client = (*deployment)->client();
  Result<Json> enrolled = node.Enroll(client);
  ASSERT_TRUE(enrolled.ok()) << enrolled.error().ToString();
  ASSERT_EQ((*enrolled)["state"], "enrolled");

  const std::string base = "/v1/nodes/" + node.node_id();
  Json challenge = Post(client, base + "/challenges", "{}", 201);
  ASSERT_EQ(challenge.value("pcr_selection", ""), policy.selection.ToString());
  Result<Bytes> nonce = HexDecode(challenge.value("nonce", ""));
  ASSERT_TRUE(nonce.ok());
  const verifier::Evidence evidence =
      verifier::test::ForgeEvidence(forgery, node.ak(), policy, *nonce);

  // The offline verdict, which the offline suite pins to the forgery's codes.
  const verifier::AttestationKey key = node.ak().LoadedKey();
  const verifier::Verdict offline =
      verifier::VerifyEvidence({evidence, key, policy, *nonce, std::nullopt});
  ASSERT_EQ(Codes(offline), forgery.codes) << verifier::VerdictToJson(offline).dump(2);

  // A forgery the wire format cannot carry (runtime/log.cpp checks every
  // entry on writing and on parsing) never reaches a verdict over HTTP.
  // Those are named here: any other the writer refuses is a regression,
  // not a skip.
  static const std::set<std::string> kNotExpressible = {"EvilRuncWithEditedDetailTimeAndSize"};
  Result<Json> document = verifier::EvidenceToJson(evidence);
  if (kNotExpressible.contains(forgery.name)) {
    ASSERT_FALSE(document.ok()) << forgery.name << " is expressible now: take it off the list";
    GTEST_SKIP() << "not expressible as evidence JSON: " << document.error().message;
  }
  ASSERT_TRUE(document.ok()) << document.error().ToString();
  Json answer = Post(client, base + "/evidence", document->dump(), 200);
  const Json verdict = answer.value("verdict", Json::object());
  EXPECT_EQ(verdict.value("trusted", !offline.trusted), offline.trusted) << answer.dump(2);
  // Reasons exactly as the offline check words them: code, PCR and detail.
  EXPECT_EQ(verdict.value("reasons", Json()), verifier::VerdictToJson(offline)["reasons"])
      << answer.dump(2);

  // Evidence the node's AK signed over the challenge is the node speaking:
  // recorded, and an attack leaves it untrusted. Anything else changes
  // nothing about the node.
  const CodeList codes = Codes(offline);
  const bool authenticated = offline.nonce_checked && !Has(codes, "ATTEST_MALFORMED") &&
                             !Has(codes, "SIGNATURE_INVALID") && !Has(codes, "NONCE_MISMATCH");
  const std::string expected_state =
      !authenticated ? "enrolled" : (offline.trusted ? "trusted" : "untrusted");
  EXPECT_EQ(answer["recorded"], authenticated) << answer.dump(2);
  EXPECT_EQ(answer["state"], expected_state) << answer.dump(2);
  Result<Json> record = (*deployment)->Node(node.node_id());
  ASSERT_TRUE(record.ok()) << record.error().ToString();
  EXPECT_EQ((*record)["state"], expected_state) << record->dump(2);
}

std::string ForgeryName(const ::testing::TestParamInfo<Forgery>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Forgeries, SoundnessOverHttpsTest,
                         ::testing::ValuesIn(verifier::test::Forgeries()), ForgeryName);

}  // namespace
}  // namespace attest::service::test
