// The whole protocol against swtpm through attestd's TPM layer, over real
// HTTPS: the verifier service runs in-process on 127.0.0.1 port 0 (a real
// state directory, swtpm's local CA as the EK CA bundle), and the node is
// attestd's TPM code on a private swtpm whose PCRs hold the repository's
// OVMF boot log and attestd's runtime measurements. Enrollment with the
// real EK certificate, ActivateCredential in the TPM, quotes, TPM2_Certify
// of a TPM-resident key, the certificate checked with `openssl verify`,
// then a runtime change that makes the node untrusted and revokes the
// certificate. And another TPM's AK: refused at activation, its quotes
// unauthenticated and without effect.
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include <openssl/rand.h>

#include "attest/attestd/runtime_pcr.h"
#include "attest/attestd/tpm_measurement_pcr.h"
#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/runtime/entry.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/evidence.h"

#include "openapi_validator.h"
#include "served_deployment.h"
#include "verifier_swtpm_fixture.h"

namespace attest::test {
namespace {

using attestd::EkAlgorithm;
using attestd::Endorsement;
using attestd::KeyBlob;
using attestd::RuntimeMeasurements;
using attestd::TpmMeasurementPcr;
using service::test::DeploymentOptions;
using service::test::ServedDeployment;
using verifier_swtpm::VerifierSwtpmTest;

// The node, as attestd runs it: the boot log extended into swtpm's PCRs,
// its runtime files measured into the runtime PCR, an RSA EK with swtpm's
// certificate and a P-256 AK; and the verifier serving a policy learned
// from that node's own first quote (what `verifier policy learn` drafts).
class ServiceProtocolSwtpmTest : public VerifierSwtpmTest {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void SetUp() override {
    VerifierSwtpmTest::SetUp();
    if (HasFatalFailure()) return;
    ExtendBootLog();
    ASSERT_FALSE(HasFatalFailure());
    WriteRuntimeFiles(runtime_files_);
    auto pcr = TpmMeasurementPcr::Create(tpm(), verifier_swtpm::kRuntimePcr);
    ASSERT_TRUE(pcr.ok()) << pcr.error().ToString();
    runtime_pcr_ = std::move(pcr).value();
    runtime_options_.pcr = verifier_swtpm::kRuntimePcr;
    runtime_options_.log_path = File("runtime-log.json");
    auto daemon =
        RuntimeMeasurements::Start(*runtime_pcr_,
                                   {runtime_files_.File("runc"), runtime_files_.File("containerd"),
                                    runtime_files_.File("config.toml")},
                                   clock_, runtime_options_);
    ASSERT_TRUE(daemon.ok()) << daemon.error().ToString();
    daemon_ = std::move(daemon).value();
    ASSERT_TRUE(daemon_->MeasureAndExtend().ok());
    ASSERT_EQ(daemon_->log().entries.size(), 3u);

    auto endorsement = tpm().ReadEndorsement(EkAlgorithm::kRsa);
    ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
    ASSERT_TRUE(endorsement->certificate_der.has_value());
    endorsement_ = *endorsement;
    auto ak = tpm().CreateAttestationKey(attestd::AkAlgorithm::kEccP256);
    ASSERT_TRUE(ak.ok()) << ak.error().ToString();
    ak_ = *ak;

    auto quote = tpm().MakeQuote(ak_, nonce_, selection_);
    ASSERT_TRUE(quote.ok()) << quote.error().ToString();
    verifier::Evidence sample = MakeEvidence(quote->attest, quote->signature, quote->pcrs);
    sample.runtime_log = daemon_->log();
    auto key = verifier::ParseAttestationKey(ak_.public_area);
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    DeploymentOptions options;
    options.policy = LearnedPolicy(sample, *key);
    ASSERT_FALSE(HasFailure());
    options.policy.trust_domain = "example.org";
    WriteText(File("tpm-ca.pem"), ReadText(swtpm().root_certificate_path()) +
                                      ReadText(swtpm().issuer_certificate_path()));
    options.tpm_ca_bundle = File("tpm-ca.pem");
    auto deployment = ServedDeployment::Start(verifier_dir_.path(), options);
    ASSERT_TRUE(deployment.ok()) << deployment.error().ToString();
    verifier_ = std::move(deployment).value();
  }

  // A POST over the deployment's HTTPS client: the status expected, the
  // answer checked against verifier/openapi.yaml, the body parsed.
  Json Post(const std::string& target, const std::string& body, int status) {
    auto response = verifier_->client().Post(target, body);
    EXPECT_TRUE(response.ok()) << response.error().ToString();
    if (!response.ok()) return Json();
    EXPECT_EQ(response->status, status) << target << ": " << response->body;
    static const Result<OpenApiContract> contract = OpenApiContract::Load(ATTEST_OPENAPI_PATH);
    EXPECT_TRUE(contract.ok()) << contract.error().message;
    if (contract.ok()) {
      Status follows = contract->CheckResponse("POST", target, response->status,
                                               response->content_type, response->body);
      EXPECT_TRUE(follows.ok()) << "openapi.yaml: " << follows.error().message;
    }
    auto json = ParseJsonStrict(response->body);
    EXPECT_TRUE(json.ok()) << response->body;
    return json.ok() ? *json : Json();
  }

  Json EnrollmentBody(const KeyBlob& ak) const {
    return {{"hostname", "swtpm-node.example"},
            {"ek_public", Base64Encode(tpm::MarshalPublic(endorsement_.public_key))},
            {"ek_certificate", Base64Encode(*endorsement_.certificate_der)},
            {"ak_public", Base64Encode(ak.public_area)}};
  }

  // POST /v1/enrollments, ActivateCredential in the TPM, POST .../activate.
  void Enroll() {
    Json enrollment = Post("/v1/enrollments", EnrollmentBody(ak_).dump(), 201);
    auto secret = tpm().ActivateCredential(
        ak_, endorsement_, Base64Decode(enrollment.value("credential_blob", "")).value(),
        Base64Decode(enrollment.value("encrypted_secret", "")).value());
    ASSERT_TRUE(secret.ok()) << secret.error().ToString();
    node_id_ = enrollment.value("node_id", "");
    Json activated = Post("/v1/enrollments/" + enrollment.value("enrollment_id", "") + "/activate",
                          Json{{"secret", Base64Encode(*secret)}}.dump(), 200);
    EXPECT_EQ(activated["state"], "enrolled") << activated.dump();
  }

  Json Challenge() { return Post("/v1/nodes/" + node_id_ + "/challenges", "{}", 201); }

  // What attestd sends for `challenge`: a quote by `ak` on `tpm` over the
  // challenge's nonce and selection, the boot log unless the verifier
  // holds it, the runtime log.
  verifier::Evidence Answer(attestd::Tpm& on, const KeyBlob& ak, const Json& challenge) {
    verifier::Evidence evidence;
    evidence.nonce = HexDecode(challenge.value("nonce", "")).value();
    auto selection = tpm::ParsePcrSelection(challenge.value("pcr_selection", ""));
    EXPECT_TRUE(selection.ok()) << challenge.dump();
    if (!selection.ok()) return evidence;
    auto quote = on.MakeQuote(ak, evidence.nonce, *selection);
    EXPECT_TRUE(quote.ok()) << quote.error().ToString();
    if (!quote.ok()) return evidence;
    evidence.attest = quote->attest;
    evidence.signature = quote->signature;
    evidence.pcrs = quote->pcrs;
    if (!challenge.value("boot_log_cached", false)) evidence.boot_log = boot_log_;
    evidence.runtime_log = daemon_->log();
    return evidence;
  }

  // A CSR for a new TPM-resident key (signed inside swtpm through the tpm2
  // OpenSSL provider) and the AK's TPM2_Certify of that key over the nonce.
  void AddCertificateRequest(verifier::Evidence& evidence) {
    auto key = tpm().CreateSigningKey();
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    auto pem = attestd::TssPrivateKeyPem(*key);
    ASSERT_TRUE(pem.ok()) << pem.error().ToString();
    ASSERT_TRUE(CreateSecretFile(File("node-key.pem"), AsBytes(*pem)).ok());
    CommandResult request = RunCommand(
        {"openssl", "req", "-new", "-provider", "tpm2", "-provider", "default", "-key",
         File("node-key.pem"), "-subj", "/CN=" + node_id_, "-sha256", "-out", File("node.csr")},
        WithEnvironment({{"TPM2OPENSSL_TCTI", swtpm().tcti()}}));
    ASSERT_EQ(request.exit_code, 0) << request.err;
    evidence.csr = ReadText(File("node.csr"));
    auto certification = tpm().Certify(*key, ak_, evidence.nonce);
    ASSERT_TRUE(certification.ok()) << certification.error().ToString();
    evidence.key_certification = verifier::KeyCertification{key->public_area, certification->attest,
                                                            certification->signature};
  }

  Json PostEvidence(const verifier::Evidence& evidence) {
    auto text = verifier::EvidenceToJson(evidence);
    EXPECT_TRUE(text.ok()) << text.error().ToString();
    return Post("/v1/nodes/" + node_id_ + "/evidence", text.ok() ? text->dump() : "", 200);
  }

  Json NodeRecord() {
    auto record = verifier_->Node(node_id_);
    EXPECT_TRUE(record.ok()) << record.error().ToString();
    return record.ok() ? *record : Json();
  }

  // `openssl verify` of the node certificate under the verifier's CA,
  // with the verifier's current CRL when `with_crl`: exit code and output.
  CommandResult OpensslVerify(bool with_crl) {
    std::vector<std::string> argv = {"openssl", "verify", "-CAfile",
                                     verifier_->ca_certificate_path()};
    if (with_crl) {
      auto crl = verifier_->AdminGet("/v1/ca/crl");
      EXPECT_TRUE(crl.ok()) << crl.error().ToString();
      EXPECT_TRUE(crl.ok() && crl->is_string());
      WriteText(File("crl.pem"), crl.ok() && crl->is_string() ? crl->get<std::string>() : "");
      argv.insert(argv.end(), {"-crl_check", "-CRLfile", File("crl.pem")});
    }
    argv.push_back(File("node.pem"));
    return RunCommand(argv);
  }

  static std::vector<std::string> CodesOf(const Json& verdict) {
    std::vector<std::string> codes;
    for (const Json& reason : verdict.value("reasons", Json::array())) {
      codes.push_back(reason.value("code", ""));
    }
    return codes;
  }

  TempDir runtime_files_{"runtime"};
  TempDir verifier_dir_{"verifier"};
  FakeClock clock_;
  attestd::RuntimePcrOptions runtime_options_;
  std::unique_ptr<TpmMeasurementPcr> runtime_pcr_;
  std::unique_ptr<RuntimeMeasurements> daemon_;
  Endorsement endorsement_;
  KeyBlob ak_;
  std::unique_ptr<ServedDeployment> verifier_;
  std::string node_id_;
};

TEST_F(ServiceProtocolSwtpmTest, TrustedWithACertificateThenARuntimeChangeRevokesIt) {
  Enroll();
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(NodeRecord()["ek_certificate"], true);

  // First contact: the full boot log, and a CSR for a TPM-resident key.
  Json challenge = Challenge();
  EXPECT_EQ(challenge["boot_log_cached"], false);
  verifier::Evidence evidence = Answer(tpm(), ak_, challenge);
  ASSERT_TRUE(evidence.boot_log.has_value());
  AddCertificateRequest(evidence);
  ASSERT_FALSE(HasFatalFailure());
  Json trusted = PostEvidence(evidence);
  EXPECT_EQ(trusted["verdict"]["trusted"], true) << trusted.dump(2);
  EXPECT_EQ(CodesOf(trusted["verdict"]), std::vector<std::string>{}) << trusted.dump(2);
  EXPECT_EQ(trusted["state"], "trusted");
  EXPECT_EQ(trusted["recorded"], true);
  ASSERT_TRUE(trusted.contains("certificate_chain")) << trusted.dump(2);
  WriteText(File("node.pem"), trusted["certificate_chain"].get<std::string>());
  CommandResult verified = OpensslVerify(/*with_crl=*/true);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // The certificate is for the key TPM2_Certify proved TPM-resident.
  CommandResult certificate_key =
      RunCommand({"openssl", "x509", "-in", File("node.pem"), "-noout", "-pubkey"});
  CommandResult csr_key =
      RunCommand({"openssl", "req", "-in", File("node.csr"), "-noout", "-pubkey"});
  ASSERT_EQ(certificate_key.exit_code, 0) << certificate_key.err;
  EXPECT_EQ(certificate_key.out, csr_key.out);

  // runc changes; attestd measures it into the runtime PCR. The verifier
  // holds the boot log now, so the node leaves it out.
  WriteText(runtime_files_.File("runc"), "runc binary v2, not approved");
  auto update = daemon_->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_EQ(update->extended.size(), 1u);
  challenge = Challenge();
  EXPECT_EQ(challenge["boot_log_cached"], true);
  evidence = Answer(tpm(), ak_, challenge);
  EXPECT_FALSE(evidence.boot_log.has_value());
  Json untrusted = PostEvidence(evidence);
  EXPECT_EQ(untrusted["verdict"]["trusted"], false) << untrusted.dump(2);
  EXPECT_EQ(CodesOf(untrusted["verdict"]), std::vector<std::string>{"RUNTIME_NOT_APPROVED"})
      << untrusted.dump(2);
  const Json reasons = untrusted["verdict"].value("reasons", Json::array());
  ASSERT_EQ(reasons.size(), 1u) << untrusted.dump(2);
  EXPECT_EQ(reasons[0].value("path", ""), runtime_files_.File("runc"));
  EXPECT_EQ(untrusted["state"], "untrusted");
  EXPECT_EQ(untrusted["recorded"], true);
  EXPECT_EQ(NodeRecord()["state"], "untrusted");

  // The certificate is on the CRL at once.
  CommandResult revoked = OpensslVerify(/*with_crl=*/true);
  EXPECT_NE(revoked.exit_code, 0) << revoked.out;
  EXPECT_NE((revoked.out + revoked.err).find("certificate revoked"), std::string::npos)
      << revoked.out << revoked.err;
}

// MakeCredential binds the secret to the name of the AK the enrollment
// names: this TPM's other AK loads here, but the TPM itself refuses to open
// the credential for it (an integrity failure over the name); the named AK
// opens it and the enrollment activates.
TEST_F(ServiceProtocolSwtpmTest, TheCredentialOpensOnlyForTheAkItWasMadeFor) {
  auto named_ak = tpm().CreateAttestationKey(attestd::AkAlgorithm::kEccP256);
  ASSERT_TRUE(named_ak.ok()) << named_ak.error().ToString();
  Json enrollment = Post("/v1/enrollments", EnrollmentBody(*named_ak).dump(), 201);
  const Bytes blob = Base64Decode(enrollment.value("credential_blob", "")).value();
  const Bytes encrypted = Base64Decode(enrollment.value("encrypted_secret", "")).value();

  auto wrong = tpm().ActivateCredential(ak_, endorsement_, blob, encrypted);
  ASSERT_FALSE(wrong.ok()) << "the credential opened for an AK it was not made for";
  EXPECT_EQ(wrong.error().code, ErrorCode::kTpm) << wrong.error().ToString();

  auto secret = tpm().ActivateCredential(*named_ak, endorsement_, blob, encrypted);
  ASSERT_TRUE(secret.ok()) << secret.error().ToString();
  Json activated = Post("/v1/enrollments/" + enrollment.value("enrollment_id", "") + "/activate",
                        Json{{"secret", Base64Encode(*secret)}}.dump(), 200);
  EXPECT_EQ(activated["state"], "enrolled") << activated.dump();
}

TEST_F(ServiceProtocolSwtpmTest, AnotherTpmsAkIsRefusedAtActivationAndItsQuotesChangeNothing) {
  auto other_swtpm = SwtpmSimulator::Start({.create_ek_certificates = false});
  ASSERT_TRUE(other_swtpm.ok()) << other_swtpm.error().ToString();
  auto other_tpm = attestd::Tpm::Open((*other_swtpm)->tcti());
  ASSERT_TRUE(other_tpm.ok()) << other_tpm.error().ToString();
  auto other_ak = (*other_tpm)->CreateAttestationKey(attestd::AkAlgorithm::kEccP256);
  ASSERT_TRUE(other_ak.ok()) << other_ak.error().ToString();

  // This TPM's EK and certificate with the other TPM's AK: the credential
  // opens in neither TPM, so the node cannot answer it.
  Json enrollment = Post("/v1/enrollments", EnrollmentBody(*other_ak).dump(), 201);
  const Bytes blob = Base64Decode(enrollment.value("credential_blob", "")).value();
  const Bytes encrypted = Base64Decode(enrollment.value("encrypted_secret", "")).value();
  const std::string enrollment_id = enrollment.value("enrollment_id", "");
  node_id_ = enrollment.value("node_id", "");
  auto here = tpm().ActivateCredential(*other_ak, endorsement_, blob, encrypted);
  EXPECT_FALSE(here.ok()) << "the other TPM's AK loaded in this TPM";
  auto there = (*other_tpm)->ActivateCredential(*other_ak, endorsement_, blob, encrypted);
  ASSERT_FALSE(there.ok());
  EXPECT_EQ(there.error().code, ErrorCode::kVerificationFailed) << there.error().ToString();
  auto other_endorsement = (*other_tpm)->ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(other_endorsement.ok()) << other_endorsement.error().ToString();
  auto with_its_ek =
      (*other_tpm)->ActivateCredential(*other_ak, *other_endorsement, blob, encrypted);
  ASSERT_FALSE(with_its_ek.ok());
  EXPECT_EQ(with_its_ek.error().code, ErrorCode::kTpm) << with_its_ek.error().ToString();
  // A guess is refused, and the node is not enrolled.
  Bytes guess(32);
  ASSERT_EQ(RAND_bytes(guess.data(), static_cast<int>(guess.size())), 1);
  Json refused = Post("/v1/enrollments/" + enrollment_id + "/activate",
                      Json{{"secret", Base64Encode(guess)}}.dump(), 403);
  EXPECT_EQ(refused["error"]["code"], "SECRET_MISMATCH") << refused.dump();
  auto no_node = verifier_->Node(node_id_);
  ASSERT_FALSE(no_node.ok()) << "a node was made without activation: " << no_node->dump();
  EXPECT_NE(no_node.error().message.find("HTTP 404"), std::string::npos) << no_node.error().message;

  // The node enrolls with its own AK and is trusted.
  Enroll();
  ASSERT_FALSE(HasFailure());
  Json trusted = PostEvidence(Answer(tpm(), ak_, Challenge()));
  ASSERT_EQ(trusted["state"], "trusted") << trusted.dump(2);
  const Json before = NodeRecord();

  // The other TPM's AK quotes over this node's challenge (its PCRs hold the
  // same boot log and runtime measurements, so only the signer differs):
  // unauthenticated, recorded nowhere, the node as it was.
  auto log = verifier::ParseEventLog(boot_log_);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  std::vector<std::pair<std::uint32_t, Bytes>> extends;
  for (const verifier::BootEvent& event : log->events) {
    if (event.type == verifier::kEvNoAction) continue;
    const verifier::EventDigest* digest = event.digests.Find(TPM2_ALG_SHA256);
    ASSERT_NE(digest, nullptr);
    extends.emplace_back(event.pcr, Bytes(digest->digest.begin(), digest->digest.end()));
  }
  for (const runtime::RuntimeEntry& entry : daemon_->log().entries) {
    const Sha256Digest digest = runtime::RuntimeExtendDigest(entry);
    extends.emplace_back(verifier_swtpm::kRuntimePcr, Bytes(digest.begin(), digest.end()));
  }
  for (const auto& [pcr, digest] : extends) {
    Status extended = (*other_tpm)->ExtendPcr(pcr, {{TPM2_ALG_SHA256, digest}});
    ASSERT_TRUE(extended.ok()) << extended.error().ToString();
  }
  Json forged = PostEvidence(Answer(**other_tpm, *other_ak, Challenge()));
  EXPECT_EQ(forged["verdict"]["trusted"], false) << forged.dump(2);
  EXPECT_EQ(CodesOf(forged["verdict"]), std::vector<std::string>{"SIGNATURE_INVALID"})
      << forged.dump(2);
  EXPECT_EQ(forged["recorded"], false);
  EXPECT_EQ(forged["state"], "trusted");
  EXPECT_EQ(NodeRecord(), before);
}

}  // namespace
}  // namespace attest::test
