// The whole protocol through Service::Handle with simulated nodes:
// enrollment and activation, challenges and evidence, verdicts and node
// state, the ledger entries they cause, certificates and the CRL,
// incremental evidence, and a restart.
#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/service/operations.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

class ProtocolTest : public ServiceTest {};

TEST_F(ProtocolTest, EnrollActivateAndAttestMakeTheNodeTrusted) {
  const SimulatedNode& node = *nodes_[0];
  Json activated = Enroll(node);
  EXPECT_EQ(activated["node_id"], node.node_id());
  EXPECT_EQ(activated["state"], "enrolled");

  Json answer = Attest(node);
  EXPECT_EQ(answer["verdict"]["trusted"], true) << answer.dump(2);
  EXPECT_EQ(answer["state"], "trusted");
  EXPECT_EQ(answer["recorded"], true);

  std::string reader = MakeToken(Role::kReader);
  Json shown = Expect(200, "GET", "/v1/nodes/" + node.node_id(), "", reader);
  EXPECT_EQ(shown["state"], "trusted");
  EXPECT_EQ(shown["hostname"], "node-a.example");
  EXPECT_EQ(shown["last_verdict"]["trusted"], true);
  EXPECT_TRUE(shown.contains("last_attestation"));
  EXPECT_THAT(LedgerKinds(), ElementsAre("token.created", "policy.applied", "node.enrolled",
                                         "node.trusted", "token.created"));
  // A routine pass afterwards changes no state and writes no entry.
  EXPECT_EQ(Attest(node)["state"], "trusted");
  EXPECT_EQ(LedgerKinds().size(), 5u);
}

TEST_F(ProtocolTest, ActivationIsSingleUseAndNeedsTheSecret) {
  const SimulatedNode& node = *nodes_[0];
  Json enrollment = Expect(201, "POST", "/v1/enrollments", node.EnrollmentBody().dump());
  const std::string target =
      "/v1/enrollments/" + enrollment["enrollment_id"].get<std::string>() + "/activate";
  Bytes secret = node.ActivateCredential(enrollment).value();
  Bytes wrong = secret;
  wrong[0] ^= 1;
  http::Response refused = Call("POST", target, Json{{"secret", Base64Encode(wrong)}}.dump());
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(ErrorCodeOf(refused), "SECRET_MISMATCH");
  Expect(200, "POST", target, Json{{"secret", Base64Encode(secret)}}.dump());
  http::Response again = Call("POST", target, Json{{"secret", Base64Encode(secret)}}.dump());
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(ErrorCodeOf(again), "ENROLLMENT_USED");
}

TEST_F(ProtocolTest, ThreeWrongSecretsFailTheEnrollment) {
  const SimulatedNode& node = *nodes_[0];
  Json enrollment = Expect(201, "POST", "/v1/enrollments", node.EnrollmentBody().dump());
  const std::string target =
      "/v1/enrollments/" + enrollment["enrollment_id"].get<std::string>() + "/activate";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call("POST", target, Json{{"secret", Base64Encode(Bytes(32, 7))}}.dump()).status,
              403);
  }
  Bytes secret = node.ActivateCredential(enrollment).value();
  http::Response late = Call("POST", target, Json{{"secret", Base64Encode(secret)}}.dump());
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(ErrorCodeOf(late), "ENROLLMENT_FAILED");
  EXPECT_EQ(Call("POST", "/v1/nodes/" + node.node_id() + "/challenges").status, 404);
}

TEST_F(ProtocolTest, AnExpiredEnrollmentCannotBeActivated) {
  const SimulatedNode& node = *nodes_[0];
  Json enrollment = Expect(201, "POST", "/v1/enrollments", node.EnrollmentBody().dump());
  Bytes secret = node.ActivateCredential(enrollment).value();
  clock_.Advance(config_.enrollment_lifetime + std::chrono::seconds(1));
  http::Response late = Call(
      "POST", "/v1/enrollments/" + enrollment["enrollment_id"].get<std::string>() + "/activate",
      Json{{"secret", Base64Encode(secret)}}.dump());
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(ErrorCodeOf(late), "ENROLLMENT_EXPIRED");
}

TEST_F(ProtocolTest, AnEkWithoutCertificateMustBeOnTheAllowlist) {
  SimulatedNode stranger("stranger.example", measurements_, EkKind::kEccP256);
  http::Response refused = Call("POST", "/v1/enrollments", stranger.EnrollmentBody().dump());
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(ErrorCodeOf(refused), "EK_NOT_ALLOWED");
}

TEST_F(ProtocolTest, ANewAkForAKnownEkNeedsTheOperatorsWindow) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Json first = Attest(node);
  ASSERT_EQ(first["state"], "trusted");
  SimulatedNode same_tpm("node-a.example", node);
  http::Response refused = Call("POST", "/v1/enrollments", same_tpm.EnrollmentBody().dump());
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(ErrorCodeOf(refused), "REENROLL_NOT_ALLOWED");

  ASSERT_TRUE(AllowReenroll(state_dir_, node.node_id(), std::chrono::minutes(10), clock_).ok());
  Json activated = Enroll(same_tpm);
  EXPECT_EQ(activated["state"], "enrolled");
  // The old AK no longer speaks for the node; the new one does.
  Bytes nonce = Challenge(node);
  Json old_key = PostEvidence(node, MakeEvidence(node, nonce));
  EXPECT_EQ(old_key["recorded"], false);
  EXPECT_EQ(Attest(same_tpm)["state"], "trusted");
  std::vector<std::string> kinds = LedgerKinds();
  EXPECT_THAT(kinds, Contains("node.reenroll_allowed"));
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "node.enrolled"), 2);
}

TEST_F(ProtocolTest, NoncesAreSingleUseKnownAndFresh) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  auto post = [&](const Bytes& nonce) {
    return Call("POST", "/v1/nodes/" + node.node_id() + "/evidence",
                EvidenceText(MakeEvidence(node, nonce)));
  };
  http::Response unknown = post(Bytes(32, 0x42));
  EXPECT_EQ(unknown.status, 409);
  EXPECT_EQ(ErrorCodeOf(unknown), "NONCE_UNKNOWN");

  Bytes nonce = Challenge(node);
  EXPECT_EQ(post(nonce).status, 200);
  http::Response reused = post(nonce);
  EXPECT_EQ(reused.status, 409);
  EXPECT_EQ(ErrorCodeOf(reused), "NONCE_REUSED");

  Bytes late = Challenge(node);
  clock_.Advance(std::chrono::seconds(31));
  http::Response expired = post(late);
  EXPECT_EQ(expired.status, 409);
  EXPECT_EQ(ErrorCodeOf(expired), "NONCE_EXPIRED");

  // Another node's challenge is unknown for this one.
  Enroll(*nodes_[1]);
  Bytes other = Challenge(*nodes_[1]);
  EXPECT_EQ(ErrorCodeOf(post(other)), "NONCE_UNKNOWN");
}

TEST_F(ProtocolTest, AFailedAttestationMakesTheNodeUntrustedAndRevokesItsCertificates) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Bytes nonce = Challenge(node);
  verifier::Evidence evidence = MakeEvidence(node, nonce);
  node.AddCertificateRequest(evidence);
  Json issued = PostEvidence(node, evidence);
  ASSERT_TRUE(issued.contains("certificate_chain")) << issued.dump(2);

  // A runtime file nobody approved, quoted and logged honestly.
  nonce = Challenge(node);
  evidence = MakeEvidence(node, nonce);
  evidence.runtime_log->entries.back().sha256[0] ^= 1;
  evidence = node.ak().Make(selection_, *evidence.boot_log, *evidence.runtime_log, nonce,
                            verifier::test::SafeClock());
  Json failed = PostEvidence(node, evidence);
  EXPECT_EQ(failed["verdict"]["trusted"], false);
  EXPECT_EQ(failed["state"], "untrusted");
  EXPECT_EQ(failed["recorded"], true);
  std::string reader = MakeToken(Role::kReader);
  Json shown = Expect(200, "GET", "/v1/nodes/" + node.node_id(), "", reader);
  ASSERT_EQ(shown["certificates"].size(), 1u);
  EXPECT_EQ(shown["certificates"][0]["revoked"], true);
  EXPECT_EQ(shown["certificate_expiry"], nullptr);
  EXPECT_EQ(shown["last_verdict"]["reasons"][0]["code"], "RUNTIME_NOT_APPROVED");

  EXPECT_EQ(Attest(node)["state"], "trusted");
  EXPECT_THAT(LedgerKinds(),
              ElementsAre("token.created", "policy.applied", "node.enrolled", "node.trusted",
                          "cert.issued", "attestation.failed", "node.untrusted", "cert.revoked",
                          "token.created", "node.trusted"));
}

// Anyone can fetch a challenge; evidence the AK did not sign changes nothing.
TEST_F(ProtocolTest, EvidenceNotSignedByTheAkChangesNothing) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  ASSERT_EQ(Attest(node)["state"], "trusted");
  Bytes nonce = Challenge(node);
  verifier::Evidence forged = MakeEvidence(node, nonce);
  forged.signature.back() ^= 1;
  Json answer = PostEvidence(node, forged);
  EXPECT_EQ(answer["verdict"]["trusted"], false);
  EXPECT_EQ(answer["recorded"], false);
  EXPECT_EQ(answer["state"], "trusted");
  SimulatedNode stranger("stranger", measurements_, EkKind::kEccP256);
  nonce = Challenge(node);
  answer = PostEvidence(node, MakeEvidence(stranger, nonce));
  EXPECT_EQ(answer["recorded"], false);
  EXPECT_EQ(answer["state"], "trusted");
}

TEST_F(ProtocolTest, IssuedCertificatesVerifyWithOpenssl) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Bytes nonce = Challenge(node);
  verifier::Evidence evidence = MakeEvidence(node, nonce);
  node.AddCertificateRequest(evidence);
  Json answer = PostEvidence(node, evidence);
  ASSERT_TRUE(answer.contains("certificate_chain")) << answer.dump(2);
  EXPECT_TRUE(answer.contains("not_after"));
  const std::string pem = dir_.File("node.pem");
  ASSERT_TRUE(WriteFileAtomically(pem, answer["certificate_chain"].get<std::string>(), 0644).ok());
  auto verified = attest::test::RunCommand(
      {"openssl", "verify", "-CAfile", state_dir_ + "/ca.pem", "-purpose", "sslclient", pem});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  auto subject = attest::test::RunCommand(
      {"openssl", "x509", "-in", pem, "-noout", "-subject", "-ext", "subjectAltName"});
  EXPECT_NE(subject.out.find(node.node_id()), std::string::npos) << subject.out;
  EXPECT_NE(subject.out.find("spiffe://example.org/node/" + node.node_id()), std::string::npos)
      << subject.out;
  // A root attacker on the node chooses its enrollment hostname: it must not
  // become a name the CA vouches for.
  ASSERT_FALSE(node.hostname().empty());
  EXPECT_EQ(subject.out.find("DNS:"), std::string::npos) << subject.out;
  EXPECT_THAT(LedgerKinds(), Contains("cert.issued"));
}

TEST_F(ProtocolTest, ACsrWithoutProofGetsNoCertificateUnlessFileKeysAreAllowed) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Bytes nonce = Challenge(node);
  verifier::Evidence evidence = MakeEvidence(node, nonce);
  node.AddCertificateRequest(evidence, /*with_proof=*/false);
  Json refused = PostEvidence(node, evidence);
  EXPECT_EQ(refused["verdict"]["trusted"], true);
  EXPECT_FALSE(refused.contains("certificate_chain"));
  EXPECT_TRUE(refused.contains("certificate_error"));

  // A proof for another nonce (an old one replayed) is refused too.
  nonce = Challenge(node);
  evidence = MakeEvidence(node, nonce);
  node.AddCertificateRequest(evidence);
  verifier::Evidence other = MakeEvidence(node, Bytes(32, 9));
  node.AddCertificateRequest(other);
  evidence.csr = other.csr;
  evidence.key_certification = other.key_certification;
  EXPECT_FALSE(PostEvidence(node, evidence).contains("certificate_chain"));

  config_.allow_file_keys = true;
  Open();
  nonce = Challenge(node);
  evidence = MakeEvidence(node, nonce);
  node.AddCertificateRequest(evidence, /*with_proof=*/false);
  EXPECT_TRUE(PostEvidence(node, evidence).contains("certificate_chain"));
}

TEST_F(ProtocolTest, RevokingANodeRevokesItsCertificatesInTheCrl) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Bytes nonce = Challenge(node);
  verifier::Evidence evidence = MakeEvidence(node, nonce);
  node.AddCertificateRequest(evidence);
  Json issued = PostEvidence(node, evidence);
  ASSERT_TRUE(issued.contains("certificate_chain"));
  std::string operator_token = MakeToken(Role::kOperator);
  std::string before = Expect(200, "GET", "/v1/ca/crl").get<std::string>();

  Json revoked = Expect(200, "POST", "/v1/nodes/" + node.node_id() + "/revoke", "", operator_token);
  EXPECT_EQ(revoked["state"], "revoked");
  ASSERT_EQ(revoked["revoked_certificates"].size(), 1u);
  std::string serial = revoked["revoked_certificates"][0];

  std::string crl = Expect(200, "GET", "/v1/ca/crl").get<std::string>();
  EXPECT_NE(crl, before);
  ASSERT_TRUE(WriteFileAtomically(dir_.File("crl.pem"), crl, 0644).ok());
  auto text = attest::test::RunCommand({"openssl", "crl", "-in", dir_.File("crl.pem"), "-noout",
                                        "-text", "-CAfile", state_dir_ + "/ca.pem"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  std::string upper = serial;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NE(text.out.find(upper), std::string::npos) << serial << "\n" << text.out;
  // The certificate no longer verifies against the CA and its CRL.
  ASSERT_TRUE(WriteFileAtomically(dir_.File("node.pem"),
                                  issued["certificate_chain"].get<std::string>(), 0644)
                  .ok());
  auto verify = attest::test::RunCommand({"openssl", "verify", "-crl_check", "-CAfile",
                                          state_dir_ + "/ca.pem", "-CRLfile", dir_.File("crl.pem"),
                                          dir_.File("node.pem")});
  EXPECT_NE(verify.exit_code, 0);
  EXPECT_NE((verify.out + verify.err).find("certificate revoked"), std::string::npos)
      << verify.out << verify.err;
  // A revoked node may not attest until approved again.
  http::Response challenge = Call("POST", "/v1/nodes/" + node.node_id() + "/challenges");
  EXPECT_EQ(challenge.status, 403);
  EXPECT_EQ(ErrorCodeOf(challenge), "NODE_REVOKED");
  EXPECT_THAT(LedgerKinds(), Contains("node.revoked"));
  EXPECT_THAT(LedgerKinds(), Contains("cert.revoked"));
}

TEST_F(ProtocolTest, IncrementalEvidenceOmitsTheBootLogUntilAReboot) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Json challenge = Expect(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  EXPECT_EQ(challenge["boot_log_cached"], false);
  // Without a cached log an omitted one is asked for: a failure, recorded.
  Json first = Attest(node, /*with_boot_log=*/false);
  EXPECT_EQ(first["verdict"]["reasons"][0]["code"], "BOOT_LOG_REQUIRED");
  EXPECT_EQ(first["recorded"], true);
  EXPECT_EQ(first["state"], "untrusted");

  ASSERT_EQ(Attest(node)["state"], "trusted");
  challenge = Expect(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  EXPECT_EQ(challenge["boot_log_cached"], true);
  EXPECT_EQ(challenge["boot_cache"]["reset_count"], 3);
  Json incremental = Attest(node, /*with_boot_log=*/false);
  EXPECT_EQ(incremental["verdict"]["trusted"], true) << incremental.dump(2);
  EXPECT_EQ(incremental["verdict"]["boot_log_from_cache"], true);

  // After a reboot the cache is of another boot: the signed quote of an
  // unexplained boot makes the node untrusted until it resends in full.
  Json rebooted = Attest(node, /*with_boot_log=*/false, verifier::test::SafeClock(4));
  EXPECT_EQ(rebooted["verdict"]["trusted"], false);
  EXPECT_EQ(rebooted["verdict"]["reasons"][0]["code"], "BOOT_LOG_REQUIRED");
  EXPECT_EQ(rebooted["recorded"], true);
  EXPECT_EQ(rebooted["state"], "untrusted");
  Json resent = Attest(node, /*with_boot_log=*/true, verifier::test::SafeClock(4));
  EXPECT_EQ(resent["verdict"]["trusted"], true);
  EXPECT_EQ(resent["state"], "trusted");
  challenge = Expect(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  EXPECT_EQ(challenge["boot_cache"]["reset_count"], 4);
}

TEST_F(ProtocolTest, ARestartKeepsNodesTokensCertificatesAndTheBootCache) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Bytes nonce = Challenge(node);
  verifier::Evidence evidence = MakeEvidence(node, nonce);
  node.AddCertificateRequest(evidence);
  ASSERT_TRUE(PostEvidence(node, evidence).contains("certificate_chain"));
  std::string reader = MakeToken(Role::kReader);
  Bytes outstanding = Challenge(node);

  Open();
  Json shown = Expect(200, "GET", "/v1/nodes/" + node.node_id(), "", reader);
  EXPECT_EQ(shown["state"], "trusted");
  EXPECT_EQ(shown["certificates"].size(), 1u);
  EXPECT_EQ(shown["boot_log_cached"], true);
  // Challenges live in memory: a restart voids them.
  http::Response voided = Call("POST", "/v1/nodes/" + node.node_id() + "/evidence",
                               EvidenceText(MakeEvidence(node, outstanding)));
  EXPECT_EQ(ErrorCodeOf(voided), "NONCE_UNKNOWN");
  Json incremental = Attest(node, /*with_boot_log=*/false);
  EXPECT_EQ(incremental["verdict"]["trusted"], true);
  // The clock of the last trusted quote survived too: an older one is a rollback.
  verifier::QuoteClock older = verifier::test::SafeClock();
  older.clock -= 1;
  Json rolled_back = Attest(node, true, older);
  EXPECT_EQ(rolled_back["verdict"]["trusted"], false);
  EXPECT_EQ(rolled_back["state"], "untrusted");
}

TEST_F(ProtocolTest, ApprovalRequiredNodesWaitForTheOperator) {
  config_.require_approval = true;
  Open();
  const SimulatedNode& node = *nodes_[0];
  EXPECT_EQ(Enroll(node)["state"], "pending_approval");
  http::Response waiting = Call("POST", "/v1/nodes/" + node.node_id() + "/challenges");
  EXPECT_EQ(waiting.status, 403);
  EXPECT_EQ(ErrorCodeOf(waiting), "NODE_PENDING_APPROVAL");
  ASSERT_TRUE(ApproveNode(state_dir_, node.node_id(), clock_).ok());
  EXPECT_EQ(Attest(node)["state"], "trusted");
  EXPECT_THAT(LedgerKinds(), Contains("node.approved"));
  Status again = ApproveNode(state_dir_, node.node_id(), clock_);
  EXPECT_FALSE(again.ok());
}

}  // namespace
}  // namespace attest::service::test
