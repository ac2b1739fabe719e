// The node certificate end to end: attestd enrolls, is trusted and installs
// a certificate that `openssl verify` accepts against the verifier's CA and
// CRL, whose key is the TPM-resident one, and with which a TLS handshake
// through the tpm2 OpenSSL provider succeeds; systemd's READY/STATUS and a
// clean SIGTERM; and renewal of a short-lived certificate before it expires.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <thread>

#include "attest/attestd/node_certificate.h"

#include "e2e_test_support.h"
#include "notify_socket.h"

namespace attest::test {
namespace {

class E2eCertificateTest : public E2eTest {
 protected:
  // `openssl verify` of node.pem's leaf against the verifier's CA and its
  // current CRL.
  CommandResult VerifyWithCrl(const std::string& certificate_path) {
    auto crl = deployment().Api("GET", "/v1/ca/crl", {}, false);
    EXPECT_TRUE(crl.ok() && crl->status == 200);
    if (!crl.ok()) return {};
    WriteText(deployment().File("crl.pem"), crl->body.get<std::string>());
    return RunCommand({"openssl", "verify", "-CAfile", deployment().verifier_ca(), "-crl_check",
                       "-CRLfile", deployment().File("crl.pem"), certificate_path});
  }

  // A TLS 1.3 handshake by `openssl s_client` with node.pem and the TPM key
  // through the tpm2 provider, to an `openssl s_server` that requires a
  // client certificate chaining to `server_trusts`. The server's own key is
  // Ed25519: see TlsConfiguration for why.
  struct Handshake {
    CommandResult client;
    std::string server_log;
    std::optional<int> server_exit;
  };
  Handshake TlsHandshake(const std::string& server_trusts);
  std::string TlsConfiguration();
};

// Against swtpm, which has no resource manager, the tpm2 provider cannot
// duplicate a digest context (TPM2_ContextLoad of a hash sequence answers
// "out of memory for object contexts"), and TLS 1.3 duplicates the
// handshake hash. So digests come from the default provider
// (tpm2.digest=no); signatures prefer the tpm2 provider
// (?tpm2.signature=yes), which signs with the TPM key; a verification the
// tpm2 provider cannot do (Ed25519, the server's key) goes to the default
// provider, while an ECDSA verification would go to the tpm2 provider and
// hash in the TPM again. On a host with the kernel's or tpm2-abrmd's
// resource manager none of this is needed.
std::string E2eCertificateTest::TlsConfiguration() {
  const std::string path = deployment().File("openssl-tpm2.cnf");
  WriteText(path,
            "openssl_conf = openssl_init\n"
            "[openssl_init]\nproviders = provider_sect\nalg_section = evp_properties\n"
            "[provider_sect]\ndefault = default_sect\ntpm2 = tpm2_sect\n"
            "[default_sect]\nactivate = 1\n[tpm2_sect]\nactivate = 1\n"
            "[evp_properties]\ndefault_properties = tpm2.digest=no,?tpm2.signature=yes\n");
  return path;
}

E2eCertificateTest::Handshake E2eCertificateTest::TlsHandshake(const std::string& server_trusts) {
  Handshake result;
  const std::string key = deployment().File("server.key");
  const std::string certificate = deployment().File("server.pem");
  if (!std::filesystem::exists(certificate)) {
    CommandResult made =
        RunCommand({"openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", key,
                    "-out", certificate, "-subj", "/CN=127.0.0.1", "-days", "1"});
    EXPECT_EQ(made.exit_code, 0) << made.err;
  }
  const std::string log = deployment().File("s_server.log");
  std::filesystem::remove(log);
  auto server = ChildProcess::Start(
      {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", certificate, "-key", key,
       "-Verify", "2", "-CAfile", server_trusts, "-verify_return_error", "-naccept", "1", "-www"},
      log);
  EXPECT_TRUE(server.ok());
  if (!server.ok()) return result;
  std::string port;
  for (int i = 0; i < 100 && port.empty(); ++i) {
    const std::string text = ReadText(log);
    const std::size_t at = text.find("ACCEPT 127.0.0.1:");
    if (at != std::string::npos) {
      port = text.substr(at + 17, text.find('\n', at) - at - 17);
    } else {
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  EXPECT_FALSE(port.empty()) << ReadText(log);
  CommandOptions options;
  options.input = "GET / HTTP/1.0\r\n\r\n";
  options.environment = {{"OPENSSL_CONF", TlsConfiguration()},
                         {"TPM2OPENSSL_TCTI", deployment().swtpm().tcti()}};
  options.timeout = seconds(30);
  result.client = RunCommand({"openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3",
                              "-cert", deployment().certificate_dir() + "/node.pem", "-key",
                              deployment().certificate_dir() + "/node-key.pem", "-CAfile",
                              certificate, "-verify_return_error", "-ign_eof", "-brief"},
                             options);
  result.server_exit = server->Wait(seconds(10));
  result.server_log = ReadText(log);
  return result;
}

bool HasLine(const std::string& text, const std::string& line) {
  return ("\n" + text + "\n").find("\n" + line + "\n") != std::string::npos;
}

TEST_F(E2eCertificateTest, EnrolledNodeIsTrustedAndItsTpmKeyCertificateWorksForTls) {
  auto notify = NotifySocket::Bind(deployment().File("notify.sock"));
  ASSERT_TRUE(notify.ok()) << notify.error().ToString();
  ASSERT_NO_FATAL_FAILURE(StartNode({{"NOTIFY_SOCKET", notify->path()}}));

  // systemd hears READY=1 (at start, with a STATUS=), then the verdict of
  // the first cycle as STATUS=trusted, in that order.
  auto ready =
      notify->WaitFor([](const std::string& m) { return HasLine(m, "READY=1"); }, seconds(5));
  ASSERT_TRUE(ready.has_value()) << "no READY=1";
  EXPECT_NE(ready->find("STATUS="), std::string::npos) << *ready;
  auto trusted = notify->WaitFor([](const std::string& m) { return HasLine(m, "STATUS=trusted"); },
                                 seconds(5));
  ASSERT_TRUE(trusted.has_value()) << "no STATUS=trusted";
  const std::vector<std::string>& messages = notify->messages();
  const auto ready_at = std::find(messages.begin(), messages.end(), *ready);
  const auto trusted_at = std::find(messages.begin(), messages.end(), *trusted);
  EXPECT_LE(ready_at, trusted_at);

  // The verifier's record: enrolled, trusted, one live certificate.
  ATTEST_E2E_ASSIGN(node,
                    deployment().WaitForNode(
                        node_id(), [](const Json& node) { return node["state"] == "trusted"; },
                        E2eDeployment::In(seconds(10)), "trusted"));
  EXPECT_EQ(node["hostname"], "e2e-node");
  ASSERT_EQ(node["certificates"].size(), 1u) << node.dump();
  EXPECT_EQ(node["certificates"][0]["revoked"], false);
  const std::string node_pem = deployment().certificate_dir() + "/node.pem";
  EXPECT_EQ(CertificateSerial(node_pem), node["certificates"][0]["serial"]);
  ATTEST_E2E_ASSIGN(installed, attestd::ReadInstalledCertificate(deployment().certificate_dir()));
  ASSERT_TRUE(installed.has_value());
  EXPECT_EQ(installed->subject, "/CN=" + node_id());
  EXPECT_EQ(installed->spiffe_id, "spiffe://e2e.test/node/" + node_id());

  // SIGTERM: STOPPING=1 and exit 0. The TPM's one connection is free then
  // for the tpm2 provider (swtpm serves one client at a time).
  ATTEST_E2E_ASSIGN(exit_code, deployment().StopAttestd());
  EXPECT_EQ(exit_code, 0) << deployment().attestd_log();
  EXPECT_TRUE(
      notify->WaitFor([](const std::string& m) { return HasLine(m, "STOPPING=1"); }, seconds(2))
          .has_value());

  CommandResult verified = VerifyWithCrl(node_pem);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(verified.out, node_pem + ": OK\n");

  // The certificate's key is the TPM's: the tpm2 provider reads the public
  // key from node-key.pem (loading it into the TPM).
  CommandResult certified_key =
      RunCommand({"openssl", "x509", "-in", node_pem, "-noout", "-pubkey"});
  CommandOptions tpm2;
  tpm2.environment = {{"TPM2OPENSSL_TCTI", deployment().swtpm().tcti()}};
  CommandResult tpm_key =
      RunCommand({"openssl", "pkey", "-provider", "tpm2", "-provider", "default", "-in",
                  deployment().certificate_dir() + "/node-key.pem", "-pubout"},
                 tpm2);
  ASSERT_EQ(tpm_key.exit_code, 0) << tpm_key.err;
  EXPECT_EQ(certified_key.out, tpm_key.out);
  EXPECT_NE(certified_key.out.find("BEGIN PUBLIC KEY"), std::string::npos);
  // Without the tpm2 provider the key cannot even be read: it is no
  // software key.
  CommandResult software = RunCommand(
      {"openssl", "pkey", "-in", deployment().certificate_dir() + "/node-key.pem", "-pubout"});
  EXPECT_NE(software.exit_code, 0);

  // The handshake: the server verifies the client's chain to the verifier's
  // CA, and the client proved it holds the TPM key (CertificateVerify).
  Handshake good = TlsHandshake(deployment().verifier_ca());
  EXPECT_EQ(good.client.exit_code, 0) << good.client.out << good.client.err << good.server_log;
  // s_server -www answers the request only over an established session.
  EXPECT_NE(good.client.out.find("HTTP/1.0 200 ok"), std::string::npos) << good.client.out;
  EXPECT_NE(good.client.err.find("Protocol version: TLSv1.3"), std::string::npos)
      << good.client.err;
  EXPECT_NE(good.server_log.find("depth=0 CN = " + node_id()), std::string::npos)
      << good.server_log;
  EXPECT_NE(good.server_log.find("1 server accepts that finished"), std::string::npos)
      << good.server_log;
  // The same client to a server that trusts another CA fails: the check
  // above is the server's verification, not its indifference.
  // (In TLS 1.3 the client finishes its side before the server checks its
  // certificate, so the refusal shows at the server and in the missing
  // answer, not in s_client's exit code.)
  Handshake refused = TlsHandshake(deployment().File("server.pem"));
  EXPECT_EQ(refused.client.out.find("HTTP/1.0 200 ok"), std::string::npos) << refused.client.out;
  EXPECT_NE(refused.server_log.find("unable to get local issuer certificate"), std::string::npos)
      << refused.server_log;
  EXPECT_EQ(refused.server_log.find("1 server accepts that finished"), std::string::npos)
      << refused.server_log;
}

class E2eRenewalTest : public E2eTest {
 protected:
  E2eOptions Options() const override {
    E2eOptions options;
    options.certificate_lifetime_seconds = 15;
    return options;
  }
};

// A 15 s certificate is renewed once two thirds of it are gone (10 s after
// it was installed), before it expires, and not every cycle before that.
TEST_F(E2eRenewalTest, ShortLivedCertificateIsReplacedBeforeItExpires) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  const std::string node_pem = deployment().certificate_dir() + "/node.pem";
  ATTEST_E2E_ASSIGN(first, attestd::ReadInstalledCertificate(deployment().certificate_dir()));
  ASSERT_TRUE(first.has_value());
  const std::string first_serial = CertificateSerial(node_pem);
  EXPECT_NEAR(first->not_after - first->installed_at, 15, 2) << "the policy's lifetime";

  std::optional<attestd::InstalledCertificate> renewed;
  std::int64_t renewed_seen = 0;
  while (UnixNow() < first->not_after + 2) {
    auto current = attestd::ReadInstalledCertificate(deployment().certificate_dir());
    ASSERT_TRUE(current.ok()) << current.error().ToString();
    if (*current && (*current)->not_after != first->not_after) {
      renewed = *current;
      renewed_seen = UnixNow();
      break;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_TRUE(renewed.has_value()) << "no new certificate before the first expired\n"
                                   << deployment().attestd_log();
  EXPECT_LT(renewed->installed_at, first->not_after) << "renewed only after it expired";
  EXPECT_GE(renewed->installed_at, first->installed_at + 9) << "renewed too early";
  EXPECT_LT(renewed_seen, first->not_after);
  EXPECT_NE(CertificateSerial(node_pem), first_serial);

  // The verifier issued exactly two, neither revoked: no certificate per cycle.
  ATTEST_E2E_ASSIGN(answer, deployment().Api("GET", "/v1/nodes/" + node_id()));
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(Serials(answer.body).size(), 2u) << answer.body.dump();
  for (const Json& certificate : answer.body["certificates"]) {
    EXPECT_EQ(certificate["revoked"], false);
  }
  ATTEST_E2E_ASSIGN(exit_code, deployment().StopAttestd());
  EXPECT_EQ(exit_code, 0);
}

}  // namespace
}  // namespace attest::test
