// What attestd installs as node.pem: only certificates, the first for its
// own key and node id and valid now; anything else the verifier's answer
// carries is refused and the installed file stays as it was. Certificates
// made here with the openssl CLI for a file key (no TPM needed).
#include <ctime>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "attest/attestd/node_certificate.h"
#include "attest/testing/test_support.h"

namespace attest::attestd {
namespace {

using test::ReadText;
using test::RunCommand;
using test::TempDir;

class NodeCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<NodeKey> key = PrepareNodeKey(dir_.path(), NodeKeyKind::kFile, std::nullopt);
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    key_ = std::move(key).value();
  }

  // A self-signed certificate for `key_file` with `subject`, valid from
  // `days_from_now` days on.
  std::string Certificate(const std::string& key_file, const std::string& subject,
                          int days_from_now = 0) {
    std::vector<std::string> argv = {"openssl",
                                     "req",
                                     "-x509",
                                     "-key",
                                     key_file,
                                     "-subj",
                                     subject,
                                     "-days",
                                     "2",
                                     "-out",
                                     dir_.File("made.pem")};
    if (days_from_now != 0) {
      argv = {"openssl",
              "req",
              "-x509",
              "-key",
              key_file,
              "-subj",
              subject,
              "-not_before",
              "20991231000000Z",
              "-not_after",
              "21000101000000Z",
              "-out",
              dir_.File("made.pem")};
    }
    test::CommandResult made = RunCommand(argv);
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return ReadText(dir_.File("made.pem"));
  }

  std::int64_t now() const { return std::time(nullptr); }

  TempDir dir_;
  NodeKey key_;
};

TEST_F(NodeCertificateTest, TheFileKeyIsMadeOnceAndKeptPrivate) {
  struct stat info {};
  ASSERT_EQ(stat(dir_.File("node-key.pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  Result<NodeKey> again = PrepareNodeKey(dir_.path(), NodeKeyKind::kFile, std::nullopt);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->public_key_der, key_.public_key_der);
}

TEST_F(NodeCertificateTest, AChainForThisKeyAndNodeIsInstalledReencoded) {
  const std::string chain = Certificate(dir_.File("node-key.pem"), "/CN=node-1");
  const std::int64_t before = now();
  Result<InstalledCertificate> installed =
      InstallCertificate(dir_.path(), "some text before\n" + chain, key_, "node-1", now());
  ASSERT_TRUE(installed.ok()) << installed.error().ToString();
  EXPECT_EQ(installed->subject, "/CN=node-1");
  EXPECT_EQ(ReadText(dir_.File("node.pem")), chain);  // the text before it is gone
  Result<std::optional<InstalledCertificate>> read = ReadInstalledCertificate(dir_.path());
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->not_after, installed->not_after);
  // When it was installed (node.pem's mtime): the renewal counts from it.
  EXPECT_GE((*read)->installed_at, before);
  EXPECT_LE((*read)->installed_at, now());
}

TEST_F(NodeCertificateTest, AnythingElseIsRefusedAndTheInstalledFileStays) {
  const std::string good = Certificate(dir_.File("node-key.pem"), "/CN=node-1");
  ASSERT_TRUE(InstallCertificate(dir_.path(), good, key_, "node-1", now()).ok());

  ASSERT_EQ(RunCommand({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", dir_.File("other.key")})
                .exit_code,
            0);
  struct Case {
    const char* what;
    std::string chain;
    const char* node_id;
    const char* message;
    std::int64_t at;  // attestd's clock
  };
  const std::vector<Case> cases = {
      {"another key", Certificate(dir_.File("other.key"), "/CN=node-1"), "node-1", "another key",
       now()},
      {"another node", Certificate(dir_.File("node-key.pem"), "/CN=node-2"), "node-1", "CN=node-1",
       now()},
      {"not yet valid (a clock a day behind)", good, "node-1", "not valid now", now() - 86'400},
      {"expired (a clock three days ahead)", good, "node-1", "not valid now", now() + 3 * 86'400},
      {"a private key after it", good + ReadText(dir_.File("other.key")), "node-1", "PRIVATE KEY",
       now()},
      {"no certificate", "nothing here\n", "node-1", "no certificate", now()},
  };
  for (const Case& bad : cases) {
    Result<InstalledCertificate> refused =
        InstallCertificate(dir_.path(), bad.chain, key_, bad.node_id, bad.at);
    ASSERT_FALSE(refused.ok()) << bad.what;
    EXPECT_NE(refused.error().message.find(bad.message), std::string::npos)
        << bad.what << ": " << refused.error().message;
    EXPECT_EQ(ReadText(dir_.File("node.pem")), good) << bad.what;
  }
}

}  // namespace
}  // namespace attest::attestd
