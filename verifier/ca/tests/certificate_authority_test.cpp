// The CA's own key and certificate: a new self-signed CA, and Load of it or
// of an operator's intermediate, with every reason Load refuses one.
#include "attest/verifier/certificate_authority.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"

#include "ca_test_support.h"

namespace attest::verifier::test {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const TimePoint kNow = TimePoint(seconds(1795000000));

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

class CaFilesTest : public CaTest {
 protected:
  NewCaOptions Options() const {
    NewCaOptions options;
    options.key_path = File("ca.key");
    options.certificate_path = File("ca.pem");
    options.common_name = "test verifier CA";
    options.lifetime = hours(24 * 30);
    return options;
  }
};

TEST_F(CaFilesTest, CreatesASelfSignedCaThatLoads) {
  ASSERT_TRUE(CreateSelfSignedCa(Options(), kNow).ok());
  EXPECT_EQ(ModeOf(File("ca.key")), 0600u);
  EXPECT_EQ(ModeOf(File("ca.pem")), 0644u);

  const std::string text = Openssl({"x509", "-in", File("ca.pem"), "-noout", "-text"});
  EXPECT_NE(text.find("CA:TRUE, pathlen:0"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Basic Constraints: critical"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("X509v3 Subject Key Identifier"), std::string::npos) << text;
  EXPECT_NE(text.find("Subject: CN = test verifier CA"), std::string::npos) << text;
  EXPECT_NE(text.find("Issuer: CN = test verifier CA"), std::string::npos) << text;
  EXPECT_NE(text.find("ASN1 OID: prime256v1"), std::string::npos) << text;
  EXPECT_NE(text.find("Signature Algorithm: ecdsa-with-SHA256"), std::string::npos) << text;
  // The self-signature verifies: it is its own trust anchor.
  Openssl({"verify", "-CAfile", File("ca.pem"), "-attime", "1795000100", File("ca.pem")});

  auto ca = CertificateAuthority::Load(File("ca.pem"), File("ca.key"));
  ASSERT_TRUE(ca.ok()) << ca.error().ToString();
  EXPECT_EQ(ca->not_after(), kNow + hours(24 * 30));
  EXPECT_EQ(ca->chain_pem(), attest::test::ReadText(File("ca.pem")));
  X509Ptr certificate = ParseCertificate(ca->chain_pem());
  EvpPkeyPtr key = ReadPrivateKeyFile(File("ca.key"));
  EXPECT_EQ(X509_check_private_key(certificate.get(), key.get()), 1);
}

TEST_F(CaFilesTest, NeverReplacesAnExistingKeyOrCertificate) {
  ASSERT_TRUE(CreateSelfSignedCa(Options(), kNow).ok());
  const std::string key = attest::test::ReadText(File("ca.key"));
  Status again = CreateSelfSignedCa(Options(), kNow);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(attest::test::ReadText(File("ca.key")), key);

  // A certificate alone in the way: no key is left behind either.
  NewCaOptions options = Options();
  options.key_path = File("other.key");
  again = CreateSelfSignedCa(options, kNow);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_FALSE(PathExists(File("other.key")));
}

TEST_F(CaFilesTest, LoadsAnOperatorIntermediateWithItsChain) {
  MakeOperatorPki();
  ASSERT_FALSE(HasFatalFailure());
  WriteFile("chain.pem", attest::test::ReadText(File("intermediate.pem")) +
                             attest::test::ReadText(File("root.pem")));
  auto ca = CertificateAuthority::Load(File("chain.pem"), File("intermediate.key"));
  ASSERT_TRUE(ca.ok()) << ca.error().ToString();
  EXPECT_EQ(ca->chain_pem(), attest::test::ReadText(File("chain.pem")));
  // Without the root in the file too.
  ca = CertificateAuthority::Load(File("intermediate.pem"), File("intermediate.key"));
  ASSERT_TRUE(ca.ok()) << ca.error().ToString();
}

TEST_F(CaFilesTest, RefusesAKeyThatIsNotTheCertificates) {
  MakeOperatorPki();
  ASSERT_FALSE(HasFatalFailure());
  auto ca = CertificateAuthority::Load(File("intermediate.pem"), File("root.key"));
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(ca.error().message.find("does not match the CA certificate"), std::string::npos)
      << ca.error().message;
}

TEST_F(CaFilesTest, RefusesACertificateThatIsNotACa) {
  MakeOperatorPki();
  ASSERT_FALSE(HasFatalFailure());
  auto ca = CertificateAuthority::Load(File("leaf.pem"), File("leaf.key"));
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(ca.error().message.find("not a CA"), std::string::npos) << ca.error().message;
}

TEST_F(CaFilesTest, RefusesAChainWhoseNextCertificateDidNotIssueTheFirst) {
  MakeOperatorPki();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(CreateSelfSignedCa(Options(), kNow).ok());
  WriteFile("chain.pem", attest::test::ReadText(File("intermediate.pem")) +
                             attest::test::ReadText(File("ca.pem")));
  auto ca = CertificateAuthority::Load(File("chain.pem"), File("intermediate.key"));
  ASSERT_FALSE(ca.ok());
  EXPECT_NE(ca.error().message.find("certificate 2 did not issue certificate 1"), std::string::npos)
      << ca.error().message;
}

TEST_F(CaFilesTest, RefusesAChainFileWithSomethingElseInIt) {
  MakeOperatorPki();
  ASSERT_FALSE(HasFatalFailure());
  WriteFile("chain.pem", attest::test::ReadText(File("intermediate.pem")) +
                             attest::test::ReadText(File("intermediate.key")));
  auto ca = CertificateAuthority::Load(File("chain.pem"), File("intermediate.key"));
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.error().code, ErrorCode::kCorrupt);
  WriteFile("empty.pem", "");
  ca = CertificateAuthority::Load(File("empty.pem"), File("intermediate.key"));
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.error().code, ErrorCode::kCorrupt);
}

TEST_F(CaFilesTest, RefusesAKeyOthersMayRead) {
  ASSERT_TRUE(CreateSelfSignedCa(Options(), kNow).ok());
  ASSERT_EQ(::chmod(File("ca.key").c_str(), 0644), 0);
  auto ca = CertificateAuthority::Load(File("ca.pem"), File("ca.key"));
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.error().code, ErrorCode::kPermissionDenied);
  ASSERT_EQ(::chmod(File("ca.key").c_str(), 0400), 0);  // stricter than 0600 is fine
  EXPECT_TRUE(CertificateAuthority::Load(File("ca.pem"), File("ca.key")).ok());
}

TEST_F(CaFilesTest, RefusesAKeyOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the key to another uid";
  ASSERT_TRUE(CreateSelfSignedCa(Options(), kNow).ok());
  ASSERT_EQ(::chown(File("ca.key").c_str(), 65534, 65534), 0);
  auto ca = CertificateAuthority::Load(File("ca.pem"), File("ca.key"));
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.error().code, ErrorCode::kPermissionDenied);
}

TEST_F(CaFilesTest, RefusesAnRsaOrP384CaKey) {
  WriteFile("pki.cnf",
            "[req]\ndistinguished_name = dn\n[dn]\n[root]\n"
            "basicConstraints = critical,CA:TRUE\n"
            "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n");
  for (const std::vector<std::string>& newkey :
       {std::vector<std::string>{"rsa:2048"},
        std::vector<std::string>{"ec", "-pkeyopt", "ec_paramgen_curve:P-384"}}) {
    std::vector<std::string> args = {"req",  "-x509", "-config",  File("pki.cnf"), "-extensions",
                                     "root", "-subj", "/CN=root", "-nodes",        "-newkey"};
    args.insert(args.end(), newkey.begin(), newkey.end());
    ::unlink(File("other.key").c_str());
    args.insert(args.end(), {"-keyout", File("other.key"), "-out", File("other.pem")});
    Openssl(args);
    ASSERT_EQ(::chmod(File("other.key").c_str(), 0600), 0);
    auto ca = CertificateAuthority::Load(File("other.pem"), File("other.key"));
    ASSERT_FALSE(ca.ok()) << newkey.front();
    EXPECT_EQ(ca.error().code, ErrorCode::kInvalidArgument);
    const std::string& message = ca.error().message;
    EXPECT_TRUE(message.find("only ECDSA P-256 keys") != std::string::npos ||
                message.find("only P-256 keys") != std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace attest::verifier::test
