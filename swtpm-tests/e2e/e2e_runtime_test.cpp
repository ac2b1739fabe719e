// A runtime binary replaced on a trusted node: the next attestation is
// untrusted with RUNTIME_NOT_APPROVED, the certificate is revoked (on the
// CRL), a signed webhook reports it and the ledger records it; a release
// engineer's approval of the new binary with `signer`, submitted into the
// verifier's ledger, brings the node back to trusted with a new certificate.
#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "attest/clock.h"
#include "attest/ed25519.h"
#include "attest/encoding.h"
#include "attest/http/server.h"
#include "attest/signer/public_key.h"
#include "attest/verifier/certificate_authority.h"

#include "e2e_test_support.h"

namespace attest::test {
namespace {

class E2eRuntimeTest : public E2eTest {
 protected:
  E2eOptions Options() const override {
    E2eOptions options;
    options.approval_key = true;
    return options;
  }

  // An HTTPS receiver on 127.0.0.1 port 0 with a certificate from the
  // verifier's own CA (so its ca.pem authenticates it), as an operator's
  // alerting endpoint would be.
  void BeforeVerifierStarts() override {
    auto ca = verifier::CertificateAuthority::Load(deployment().verifier_ca(),
                                                   deployment().File("verifier/ca.key"));
    ASSERT_TRUE(ca.ok()) << ca.error().ToString();
    auto issued = ca->IssueServerCertificate({"127.0.0.1"}, deployment().File("hook.key"),
                                             std::chrono::hours(1), SystemClock().Now());
    ASSERT_TRUE(issued.ok()) << issued.error().ToString();
    WriteText(deployment().File("hook.pem"), issued->chain_pem);
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.certificate_chain_path = deployment().File("hook.pem");
    options.private_key_path = deployment().File("hook.key");
    auto receiver = http::Server::Start(options, [this](const http::Request& request) {
      std::lock_guard lock(mutex_);
      hooks_.push_back(request);
      arrived_.notify_all();
      return http::Response{};
    });
    ASSERT_TRUE(receiver.ok()) << receiver.error().ToString();
    receiver_ = std::move(receiver).value();
    deployment().SetWebhook("https://127.0.0.1:" + std::to_string(receiver_->port()) + "/hook",
                            deployment().verifier_ca());
  }

  void TearDown() override {
    if (receiver_) receiver_->Drain(milliseconds(500));
  }

  std::size_t HookCount() {
    std::lock_guard lock(mutex_);
    return hooks_.size();
  }
  // The first webhook from the `from`th on whose JSON body says `state`
  // for this node.
  std::optional<http::Request> WaitForHook(const std::string& state, seconds timeout,
                                           std::size_t from = 0) {
    std::unique_lock lock(mutex_);
    std::optional<http::Request> found;
    arrived_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < hooks_.size(); ++i) {
        const http::Request& request = hooks_[i];
        Result<Json> event = ParseJsonStrict(request.body);
        if (event.ok() && (*event)["node_id"] == node_id() && (*event)["state"] == state) {
          found = request;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  void Sign(const std::vector<std::string>& argv) {
    CommandResult result = RunCommand(argv);
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  }

  std::unique_ptr<http::Server> receiver_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<http::Request> hooks_;
};

TEST_F(E2eRuntimeTest, ReplacedRuntimeFileIsRevokedUntilASignedApproval) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  const std::string node_pem = deployment().certificate_dir() + "/node.pem";
  const std::string old_pem = deployment().File("old-node.pem");
  WriteText(old_pem, ReadText(node_pem));
  const std::string old_serial = CertificateSerial(old_pem);
  ATTEST_E2E_ASSIGN(before, deployment().LedgerEntries());

  // The runtime binary changes under the running daemon.
  const std::string runc = deployment().runtime_file("runc");
  WriteText(runc, "runc 1.1.13, not approved by anyone\n");
  ATTEST_E2E_ASSIGN(untrusted, deployment().WaitForAttestd(
                                   [](const attestd::AttestationStatus& status) {
                                     return status.state == "untrusted";
                                   },
                                   E2eDeployment::In(seconds(15)), "untrusted"));
  ASSERT_FALSE(untrusted.reasons.empty());
  EXPECT_EQ(untrusted.reasons[0].code, "RUNTIME_NOT_APPROVED");
  EXPECT_NE(untrusted.reasons[0].detail.find(runc), std::string::npos)
      << untrusted.reasons[0].detail;

  // The verifier: untrusted for that reason, its certificate revoked...
  ATTEST_E2E_ASSIGN(node, deployment().Api("GET", "/v1/nodes/" + node_id()));
  EXPECT_EQ(node.body["state"], "untrusted");
  EXPECT_EQ(node.body["last_verdict"]["reasons"][0]["code"], "RUNTIME_NOT_APPROVED")
      << node.body.dump();
  ASSERT_EQ(Serials(node.body), std::vector<std::string>{old_serial});
  EXPECT_EQ(node.body["certificates"][0]["revoked"], true);
  // ...and on the CRL anyone can fetch.
  auto crl = deployment().Api("GET", "/v1/ca/crl", {}, false);
  ASSERT_TRUE(crl.ok() && crl->status == 200);
  WriteText(deployment().File("crl.pem"), crl->body.get<std::string>());
  CommandResult verified =
      RunCommand({"openssl", "verify", "-CAfile", deployment().verifier_ca(), "-crl_check",
                  "-CRLfile", deployment().File("crl.pem"), old_pem});
  EXPECT_NE(verified.exit_code, 0);
  EXPECT_NE((verified.out + verified.err).find("certificate revoked"), std::string::npos)
      << verified.out << verified.err;

  // The webhook, signed with the verifier's webhook key.
  std::optional<http::Request> hook = WaitForHook("untrusted", seconds(10));
  ASSERT_TRUE(hook.has_value()) << "no webhook for the untrusted node";
  EXPECT_EQ(hook->path, "/hook");
  ATTEST_E2E_ASSIGN(key_answer, deployment().Api("GET", "/v1/webhooks/key", {}, false));
  ATTEST_E2E_ASSIGN(webhook_key,
                    signer::ParsePublicKey(key_answer.body.get<std::string>(), "webhook key"));
  auto signature_header = hook->Header("x-attest-signature");
  ASSERT_TRUE(signature_header.has_value());
  ATTEST_E2E_ASSIGN(signature, Base64Decode(*signature_header));
  EXPECT_TRUE(Ed25519Verify(webhook_key.key, AsBytes(hook->body), signature)) << hook->body;

  // The ledger: the failure, the state change and the revocation.
  ATTEST_E2E_ASSIGN(after_failure, deployment().LedgerEntries());
  const std::vector<Json> fresh(after_failure.begin() + static_cast<std::ptrdiff_t>(before.size()),
                                after_failure.end());
  const std::vector<Json> failed = EntriesOf(fresh, "attestation.failed", node_id());
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0]["payload"]["reasons"][0]["code"], "RUNTIME_NOT_APPROVED") << failed[0].dump();
  ASSERT_EQ(EntriesOf(fresh, "node.untrusted", node_id()).size(), 1u);
  bool revocation_recorded = false;
  for (const Json& entry : fresh) {
    if (entry["kind"] == "cert.revoked" && entry.dump().find(old_serial) != std::string::npos) {
      revocation_recorded = true;
    }
  }
  EXPECT_TRUE(revocation_recorded);

  // A release engineer approves the new binary: signed, submitted into the
  // verifier's ledger with the key its policy.approval_keys names.
  const std::int64_t approved_at = UnixNow();
  const std::size_t hooks_before_approval = HookCount();
  ASSERT_NO_FATAL_FAILURE(
      Sign({E2eBinaries::Signer(), "sign", runc, "--key", deployment().approval_key(), "--purpose",
            "artifact", "--comment", "runc 1.1.13"}));
  ASSERT_NO_FATAL_FAILURE(Sign({E2eBinaries::Signer(), "submit", runc + ".sig.json", "--ledger",
                                deployment().verifier_ledger(), "--actor", "release"}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilTrusted(approved_at, seconds(20)));
  ATTEST_E2E_ASSIGN(trusted, deployment().WaitForNode(
                                 node_id(), [](const Json& n) { return n["state"] == "trusted"; },
                                 E2eDeployment::In(seconds(5)), "trusted again"));
  const std::vector<std::string> serials = Serials(trusted);
  ASSERT_EQ(serials.size(), 2u) << trusted.dump();
  const std::string new_serial = CertificateSerial(node_pem);
  EXPECT_NE(new_serial, old_serial);
  EXPECT_NE(std::find(serials.begin(), serials.end(), new_serial), serials.end());
  for (const Json& certificate : trusted["certificates"]) {
    EXPECT_EQ(certificate["revoked"], certificate["serial"] == old_serial) << certificate.dump();
  }
  ATTEST_E2E_ASSIGN(after_approval, deployment().LedgerEntries());
  const std::vector<Json> latest(
      after_approval.begin() + static_cast<std::ptrdiff_t>(after_failure.size()),
      after_approval.end());
  bool approval_recorded = false;
  for (const Json& entry : latest) {
    if (entry["kind"] == "artifact.approved") approval_recorded = true;
  }
  EXPECT_TRUE(approval_recorded);
  EXPECT_EQ(EntriesOf(latest, "node.trusted", node_id()).size(), 1u);
  EXPECT_TRUE(WaitForHook("trusted", seconds(10), hooks_before_approval).has_value());
}

}  // namespace
}  // namespace attest::test
