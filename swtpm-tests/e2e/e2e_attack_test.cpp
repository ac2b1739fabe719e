// What an attacker tries end to end, each refused by the running verifier:
// a boot log forged after the true one was measured, an old evidence
// document posted again, and a second TPM that claims the node's identity.
#include <algorithm>
#include <csignal>
#include <thread>

#include "attest/attestd/tpm.h"
#include "attest/bytes.h"
#include "attest/encoding.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/event_log.h"

#include "e2e_test_support.h"

namespace attest::test {
namespace {

class E2eAttackTest : public E2eTest {};

// The TPM holds the true boot (replayed by the deployment); the file
// attestd sends has one event's sha256 digest altered, as malware that
// rewrites the log to hide what it loaded would.
TEST_F(E2eAttackTest, ForgedBootLogIsRefusedWithReplayMismatch) {
  const std::string log_text = ReadText(deployment().boot_log());
  Bytes log = ToBytes(log_text);
  ATTEST_E2E_ASSIGN(parsed, verifier::ParseEventLog(log));
  const verifier::BootEvent* victim = nullptr;
  for (const verifier::BootEvent& event : parsed.events) {
    if (event.type != verifier::kEvNoAction && event.pcr == 4) {
      victim = &event;
      break;
    }
  }
  ASSERT_NE(victim, nullptr) << "the fixture has no PCR 4 event";
  const verifier::EventDigest* digest = victim->digests.Find(TPM2_ALG_SHA256);
  ASSERT_NE(digest, nullptr);
  const Bytes digest_bytes(digest->digest.begin(), digest->digest.end());
  auto at = std::search(log.begin() + static_cast<std::ptrdiff_t>(victim->offset), log.end(),
                        digest_bytes.begin(), digest_bytes.end());
  ASSERT_NE(at, log.end());
  *at ^= 0x01;
  WriteText(deployment().boot_log(), std::string(log.begin(), log.end()));

  ASSERT_TRUE(deployment().StartAttestd().ok());
  ATTEST_E2E_ASSIGN(status,
                    deployment().WaitForAttestd(
                        [](const attestd::AttestationStatus& s) { return s.state == "untrusted"; },
                        E2eDeployment::In(seconds(20)), "untrusted"));
  ASSERT_FALSE(status.reasons.empty());
  EXPECT_EQ(status.reasons[0].code, "BOOT_LOG_REPLAY_MISMATCH") << status.reasons[0].detail;
  EXPECT_NE(status.reasons[0].detail.find("PCR 4"), std::string::npos) << status.reasons[0].detail;
  EXPECT_EQ(status.certificate_not_after, 0) << "a certificate for a forged boot";
  ATTEST_E2E_ASSIGN(node_id, deployment().NodeId());
  ATTEST_E2E_ASSIGN(node, deployment().Api("GET", "/v1/nodes/" + node_id));
  EXPECT_EQ(node.body["state"], "untrusted");
  EXPECT_EQ(node.body["last_verdict"]["reasons"][0]["code"], "BOOT_LOG_REPLAY_MISMATCH");
  EXPECT_EQ(node.body["last_verdict"]["reasons"][0]["pcr"], 4);
  EXPECT_TRUE(node.body["certificates"].empty()) << node.body.dump();
  ATTEST_E2E_ASSIGN(entries, deployment().LedgerEntries());
  ASSERT_FALSE(EntriesOf(entries, "attestation.failed", node_id).empty());
  EXPECT_TRUE(EntriesOf(entries, "node.trusted", node_id).empty());
}

// Evidence the node made for a challenge the verifier issued, accepted
// once, then posted again; and the known-good document the policy was
// learned from, whose nonce the verifier never issued.
TEST_F(E2eAttackTest, ReplayedEvidenceIsRefusedAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  ATTEST_E2E_ASSIGN(stopped, deployment().StopAttestd());
  ASSERT_EQ(stopped, 0);
  const std::string base = "/v1/nodes/" + node_id();
  ATTEST_E2E_ASSIGN(challenge, deployment().Api("POST", base + "/challenges", "{}", false));
  ASSERT_EQ(challenge.status, 201) << challenge.body.dump();
  const std::string evidence_path = deployment().File("captured-evidence.json");
  CommandResult made =
      RunCommand({E2eBinaries::Attestd(), "evidence", "--config", deployment().attestd_config(),
                  "--nonce", challenge.body["nonce"].get<std::string>(), "--pcrs",
                  challenge.body["pcr_selection"].get<std::string>(), "--out", evidence_path});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string document = ReadText(evidence_path);

  ATTEST_E2E_ASSIGN(first, deployment().Api("POST", base + "/evidence", document, false));
  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["verdict"]["trusted"], true) << first.body.dump();
  EXPECT_EQ(first.body["recorded"], true);
  ATTEST_E2E_ASSIGN(record, deployment().Api("GET", base));
  ATTEST_E2E_ASSIGN(ledger, deployment().LedgerEntries());

  ATTEST_E2E_ASSIGN(replayed, deployment().Api("POST", base + "/evidence", document, false));
  EXPECT_EQ(replayed.status, 409) << replayed.body.dump();
  EXPECT_EQ(replayed.body["error"]["code"], "NONCE_REUSED") << replayed.body.dump();

  ATTEST_E2E_ASSIGN(
      known_good, deployment().Api("POST", base + "/evidence",
                                   ReadText(deployment().File("known-good-evidence.json")), false));
  EXPECT_EQ(known_good.status, 409) << known_good.body.dump();
  EXPECT_EQ(known_good.body["error"]["code"], "NONCE_UNKNOWN") << known_good.body.dump();

  ATTEST_E2E_ASSIGN(record_after, deployment().Api("GET", base));
  EXPECT_EQ(record_after.body, record.body);
  ATTEST_E2E_ASSIGN(ledger_after, deployment().LedgerEntries());
  EXPECT_EQ(ledger_after.size(), ledger.size());
}

// Another machine's TPM with the node's hostname: it enrolls as a node of
// its own (the node id is the EK's); claiming the node's EK it is refused,
// and once an operator allows re-enrollment it still cannot activate the
// credential the verifier made for that EK. The node's record stays as it
// was and the node attests on with its own AK.
TEST_F(E2eAttackTest, SecondTpmCannotObtainTheNodesIdentity) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  ATTEST_E2E_ASSIGN(stopped, deployment().StopAttestd());
  ASSERT_EQ(stopped, 0);
  const std::string base = "/v1/nodes/" + node_id();
  ATTEST_E2E_ASSIGN(record, deployment().Api("GET", base));

  SwtpmOptions tpm_options;
  tpm_options.pcr_banks = "sha256";
  ATTEST_E2E_ASSIGN(impostor_tpm, SwtpmSimulator::Start(tpm_options));
  // A TPM of a vendor the verifier trusts too (its EK certificate chains
  // to the bundle): the verifier restarts with that vendor's CA added.
  WriteText(deployment().File("tpm-ca.pem"), ReadText(deployment().File("tpm-ca.pem")) +
                                                 ReadText(impostor_tpm->root_certificate_path()) +
                                                 ReadText(impostor_tpm->issuer_certificate_path()));
  ATTEST_E2E_ASSIGN(verifier_exit, deployment().StopVerifier());
  ASSERT_EQ(verifier_exit, 0);
  ASSERT_TRUE(deployment().StartVerifier().ok());
  // The same configuration (hostname included), another TPM and state.
  std::string config = ReadText(deployment().attestd_config());
  auto replace = [&config](const std::string& from, const std::string& to) {
    for (std::size_t at = config.find(from); at != std::string::npos;
         at = config.find(from, at + to.size())) {
      config.replace(at, from.size(), to);
    }
  };
  replace(deployment().swtpm().tcti(), impostor_tpm->tcti());
  replace(deployment().attestd_state(), deployment().File("impostor-state"));
  replace(deployment().certificate_dir(), deployment().File("impostor-identity"));
  replace(deployment().File("runtime-log.json"), deployment().File("impostor-runtime.json"));
  WriteText(deployment().File("impostor.toml"), config);
  ATTEST_E2E_ASSIGN(impostor, ChildProcess::Start({E2eBinaries::Attestd(), "run", "--config",
                                                   deployment().File("impostor.toml")},
                                                  deployment().File("impostor.log")));
  std::optional<attestd::NodeIdentity> impostor_identity;
  for (int i = 0; i < 200; ++i) {
    auto identity = attestd::LoadIdentity(deployment().File("impostor-state"));
    if (identity.ok() && *identity && (*identity)->enrolled) {
      impostor_identity = *identity;
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(impostor_identity.has_value()) << ReadText(deployment().File("impostor.log"));
  EXPECT_NE(impostor_identity->node_id, node_id());
  impostor.Signal(SIGTERM);
  ASSERT_EQ(impostor.Wait(seconds(15)), std::optional<int>(0));

  // Claiming the node's EK (public, and so is its certificate) with its
  // own AK.
  ATTEST_E2E_ASSIGN(node_tpm, attestd::Tpm::Open(deployment().swtpm().tcti()));
  ATTEST_E2E_ASSIGN(node_ek, node_tpm->ReadEndorsement(attestd::EkAlgorithm::kRsa));
  node_tpm.reset();
  ATTEST_E2E_ASSIGN(tpm, attestd::Tpm::Open(impostor_tpm->tcti()));
  ATTEST_E2E_ASSIGN(own_ek, tpm->ReadEndorsement(attestd::EkAlgorithm::kRsa));
  ATTEST_E2E_ASSIGN(ak, tpm->CreateAttestationKey(attestd::AkAlgorithm::kEccP256));
  Json claim = {{"hostname", "e2e-node"},
                {"ek_public", Base64Encode(tpm::MarshalPublic(node_ek.public_key))},
                {"ak_public", Base64Encode(ak.public_area)}};
  ASSERT_TRUE(node_ek.certificate_der.has_value());
  claim["ek_certificate"] = Base64Encode(*node_ek.certificate_der);
  ATTEST_E2E_ASSIGN(refused, deployment().Api("POST", "/v1/enrollments", claim.dump(), false));
  EXPECT_EQ(refused.status, 409) << refused.body.dump();
  EXPECT_EQ(refused.body["error"]["code"], "REENROLL_NOT_ALLOWED") << refused.body.dump();

  // With the operator's re-enrollment window open, the credential is made
  // for the node's EK, which this TPM does not hold.
  CommandResult allowed =
      RunCommand({E2eBinaries::Verifier(), "node", "allow-reenroll", node_id(), "--state-dir",
                  deployment().verifier_state(), "--minutes", "5"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  ATTEST_E2E_ASSIGN(started, deployment().Api("POST", "/v1/enrollments", claim.dump(), false));
  ASSERT_EQ(started.status, 201) << started.body.dump();
  ATTEST_E2E_ASSIGN(blob, Base64Decode(started.body["credential_blob"].get<std::string>()));
  ATTEST_E2E_ASSIGN(secret, Base64Decode(started.body["encrypted_secret"].get<std::string>()));
  Result<Bytes> activated = tpm->ActivateCredential(ak, own_ek, blob, secret);
  EXPECT_FALSE(activated.ok()) << "another TPM activated the node's credential";
  const std::string activate =
      "/v1/enrollments/" + started.body["enrollment_id"].get<std::string>() + "/activate";
  ATTEST_E2E_ASSIGN(
      guessed, deployment().Api("POST", activate,
                                Json{{"secret", Base64Encode(Bytes(32, 0x5a))}}.dump(), false));
  EXPECT_EQ(guessed.status, 403) << guessed.body.dump();
  EXPECT_EQ(guessed.body["error"]["code"], "SECRET_MISMATCH") << guessed.body.dump();
  tpm.reset();

  ATTEST_E2E_ASSIGN(record_after, deployment().Api("GET", base));
  EXPECT_EQ(record_after.body, record.body);
  // The node itself attests on with the AK it enrolled: trusted, one
  // enrollment in the ledger.
  const std::int64_t restarted = UnixNow() + 1;  // an attempt after the last one before
  ASSERT_TRUE(deployment().StartAttestd().ok());
  ASSERT_NO_FATAL_FAILURE(WaitUntilTrusted(restarted));
  ATTEST_E2E_ASSIGN(entries, deployment().LedgerEntries());
  EXPECT_EQ(EntriesOf(entries, "node.enrolled", node_id()).size(), 1u);
}

}  // namespace
}  // namespace attest::test
