// Node and server certificates: every field of the X509-SVID profile read
// back with OpenSSL, `openssl verify` as a relying party, and every CSR the
// CA must refuse.
#include <algorithm>
#include <cctype>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "attest/file.h"
#include "attest/verifier/certificate_authority.h"
#include "attest/verifier/key_certification.h"

#include "ca_test_support.h"

namespace attest::verifier::test {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpensslDeleter<GENERAL_NAMES_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, OpensslDeleter<BASIC_CONSTRAINTS_free>>;
using Asn1BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, OpensslDeleter<ASN1_BIT_STRING_free>>;
using ExtendedKeyUsagePtr =
    std::unique_ptr<EXTENDED_KEY_USAGE, OpensslDeleter<EXTENDED_KEY_USAGE_free>>;

const std::string kNodeId(64, 'a');

TimePoint WholeSeconds(TimePoint time) { return std::chrono::floor<seconds>(time); }

bool IsCritical(X509* certificate, int nid) {
  int index = X509_get_ext_by_NID(certificate, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(certificate, index)) == 1;
}

// "DNS:name" and "URI:..." and "IP:<n bytes>" for every subjectAltName entry.
std::vector<std::string> AltNames(X509* certificate) {
  std::vector<std::string> out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    auto* value = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<std::size_t>(ASN1_STRING_length(value)));
    if (type == GEN_DNS) out.push_back("DNS:" + text);
    if (type == GEN_URI) out.push_back("URI:" + text);
    if (type == GEN_IPADD) out.push_back("IP:" + std::to_string(text.size()) + " bytes");
  }
  return out;
}

std::vector<int> ExtendedKeyUsages(X509* certificate) {
  std::vector<int> out;
  ExtendedKeyUsagePtr usages(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(certificate, NID_ext_key_usage, nullptr, nullptr)));
  for (int i = 0; usages && i < sk_ASN1_OBJECT_num(usages.get()); ++i) {
    out.push_back(OBJ_obj2nid(sk_ASN1_OBJECT_value(usages.get(), i)));
  }
  return out;
}

std::string SubjectText(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

class IssueTest : public CaTest {
 protected:
  void SetUp() override {
    NewCaOptions options{File("ca.key"), File("ca.pem"), "issue test CA", hours(24)};
    ASSERT_TRUE(CreateSelfSignedCa(options, now_ - seconds(3600)).ok());
    auto ca = CertificateAuthority::Load(File("ca.pem"), File("ca.key"));
    ASSERT_TRUE(ca.ok()) << ca.error().ToString();
    ca_.emplace(std::move(ca).value());
  }

  NodeCertificateRequest Request(const std::string& csr) const {
    return NodeCertificateRequest{csr, kNodeId, "node-1.example.org", "example.org", seconds(3600)};
  }

  std::string RefusalFor(const std::string& csr) {
    auto issued = ca_->IssueNodeCertificate(Request(csr), now_);
    EXPECT_FALSE(issued.ok());
    if (issued.ok()) return "";
    EXPECT_EQ(issued.error().code, ErrorCode::kInvalidArgument) << issued.error().message;
    return issued.error().message;
  }

  // Real time: `openssl verify` checks validity against its own clock.
  const TimePoint now_ = WholeSeconds(std::chrono::system_clock::now());
  std::optional<CertificateAuthority> ca_;
};

TEST_F(IssueTest, NodeCertificateHasExactlyTheSvidProfile) {
  // The CSR asks for more than it may have: another subject, its own SAN,
  // a CA flag. None of it is copied.
  const std::string csr =
      OpensslCsr({"ec", "-pkeyopt", "ec_paramgen_curve:P-256"}, "node.key",
                 {"-subj", "/CN=evil/O=attacker", "-addext", "subjectAltName=DNS:evil.example",
                  "-addext", "basicConstraints=critical,CA:TRUE"});
  auto issued = ca_->IssueNodeCertificate(Request(csr), now_);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  X509Ptr leaf = ParseCertificate(issued->certificate_pem);
  X509Ptr ca = ParseCertificate(ca_->chain_pem());

  EXPECT_EQ(X509_get_version(leaf.get()), X509_VERSION_3);
  EXPECT_EQ(X509_get_signature_nid(leaf.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf.get()), X509_get_subject_name(ca.get())), 0);
  EXPECT_EQ(SubjectText(leaf.get()), "CN=" + kNodeId);
  EXPECT_EQ(AltNames(leaf.get()),
            (std::vector<std::string>{"DNS:node-1.example.org",
                                      "URI:spiffe://example.org/node/" + kNodeId}));

  // Serial: positive, at most 127 bits, reported as lowercase hex.
  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf.get()), nullptr));
  EXPECT_FALSE(BN_is_negative(serial.get()));
  EXPECT_LE(BN_num_bits(serial.get()), 127);
  EXPECT_GT(BN_num_bits(serial.get()), 64);  // random: 2^-63 to fail
  char* hex = BN_bn2hex(serial.get());
  std::string expected_hex(hex);
  OPENSSL_free(hex);
  std::transform(expected_hex.begin(), expected_hex.end(), expected_hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  expected_hex.erase(0, expected_hex.find_first_not_of('0'));
  EXPECT_EQ(issued->serial_hex, expected_hex);

  EXPECT_EQ(issued->not_before, now_ - seconds(60));
  EXPECT_EQ(issued->not_after, now_ + seconds(3600));
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf.get()),
                                 std::chrono::system_clock::to_time_t(now_ - seconds(60))),
            0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notAfter(leaf.get()),
                                 std::chrono::system_clock::to_time_t(now_ + seconds(3600))),
            0);

  // Exactly six extensions, each as the profile says.
  EXPECT_EQ(X509_get_ext_count(leaf.get()), 6);
  BasicConstraintsPtr constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(leaf.get(), NID_basic_constraints, nullptr, nullptr)));
  ASSERT_TRUE(constraints);
  EXPECT_EQ(constraints->ca, 0);
  EXPECT_TRUE(IsCritical(leaf.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_TRUE(IsCritical(leaf.get(), NID_key_usage));
  EXPECT_EQ(ExtendedKeyUsages(leaf.get()), (std::vector<int>{NID_client_auth, NID_server_auth}));
  EXPECT_FALSE(IsCritical(leaf.get(), NID_subject_alt_name));
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(leaf.get());
  ASSERT_NE(ski, nullptr);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(leaf.get());
  ASSERT_NE(aki, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca.get())), 0);

  // The key is the CSR's.
  EvpPkeyPtr node_key = ReadPrivateKeyFile(File("node.key"));
  EXPECT_EQ(X509_check_private_key(leaf.get(), node_key.get()), 1);
  auto csr_key = CsrPublicKey(csr);
  ASSERT_TRUE(csr_key.ok()) << csr_key.error().ToString();
  EXPECT_EQ(issued->public_key_der, *csr_key);
  // The chain: the leaf, then no root (the CA is self-signed).
  EXPECT_EQ(issued->chain_pem, issued->certificate_pem);

  // A relying party accepts it for both TLS client and server.
  WriteFile("leaf.pem", issued->certificate_pem);
  for (const char* purpose : {"sslclient", "sslserver"}) {
    Openssl({"verify", "-x509_strict", "-purpose", purpose, "-CAfile", File("ca.pem"),
             File("leaf.pem")});
  }
}

TEST_F(IssueTest, ChainGoesUpToTheOperatorRoot) {
  MakeOperatorPki();
  ASSERT_FALSE(HasFatalFailure());
  WriteFile("chain.pem", attest::test::ReadText(File("intermediate.pem")) +
                             attest::test::ReadText(File("root.pem")));
  auto ca = CertificateAuthority::Load(File("chain.pem"), File("intermediate.key"));
  ASSERT_TRUE(ca.ok()) << ca.error().ToString();
  const std::string csr = OpensslCsr({"ec", "-pkeyopt", "ec_paramgen_curve:P-256"}, "node.key");
  auto issued = ca->IssueNodeCertificate(Request(csr), now_);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  // The leaf and the intermediate, not the root.
  EXPECT_EQ(issued->chain_pem,
            issued->certificate_pem + attest::test::ReadText(File("intermediate.pem")));
  WriteFile("leaf.pem", issued->certificate_pem);
  WriteFile("issued-chain.pem", issued->chain_pem);
  Openssl({"verify", "-x509_strict", "-CAfile", File("root.pem"), "-untrusted",
           File("issued-chain.pem"), File("leaf.pem")});
  // Without the intermediate, the root alone does not vouch for it.
  auto missing = OpensslMayFail({"verify", "-CAfile", File("root.pem"), File("leaf.pem")});
  EXPECT_NE(missing.exit_code, 0) << missing.out;
}

TEST_F(IssueTest, NotAfterNeverPassesTheCas) {
  const std::string csr = MakeCsr(EvpPkeyPtr(EVP_EC_gen("P-256")).get());
  NodeCertificateRequest request = Request(csr);
  request.lifetime = hours(48);
  auto issued = ca_->IssueNodeCertificate(request, now_);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  EXPECT_EQ(issued->not_after, ca_->not_after());
  EXPECT_EQ(ca_->not_after(), now_ - seconds(3600) + hours(24));

  auto expired = ca_->IssueNodeCertificate(Request(csr), ca_->not_after());
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().message.find("the CA certificate expired"), std::string::npos);
  request.lifetime = seconds(0);
  EXPECT_FALSE(ca_->IssueNodeCertificate(request, now_).ok());
}

TEST_F(IssueTest, HostnameThatIsNoDnsNameIsLeftOut) {
  const std::string csr = MakeCsr(EvpPkeyPtr(EVP_EC_gen("P-256")).get());
  for (const std::string hostname : {"", "bad_host!", "-leading.example", "a..b", "x.example."}) {
    NodeCertificateRequest request = Request(csr);
    request.hostname = hostname;
    auto issued = ca_->IssueNodeCertificate(request, now_);
    ASSERT_TRUE(issued.ok()) << issued.error().ToString();
    X509Ptr leaf = ParseCertificate(issued->certificate_pem);
    EXPECT_EQ(AltNames(leaf.get()),
              std::vector<std::string>{"URI:spiffe://example.org/node/" + kNodeId})
        << hostname;
  }
}

TEST_F(IssueTest, RefusesBadNodeIdsAndTrustDomains) {
  const std::string csr = MakeCsr(EvpPkeyPtr(EVP_EC_gen("P-256")).get());
  for (const std::string& node_id : {std::string(64, 'A'), std::string(63, 'a'), std::string("")}) {
    NodeCertificateRequest request = Request(csr);
    request.node_id = node_id;
    auto issued = ca_->IssueNodeCertificate(request, now_);
    ASSERT_FALSE(issued.ok()) << node_id;
    EXPECT_EQ(issued.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(issued.error().message.find("node_id"), std::string::npos);
  }
  for (const std::string domain : {"Example.org", "example.org/x", "", "ex ample.org"}) {
    NodeCertificateRequest request = Request(csr);
    request.trust_domain = domain;
    auto issued = ca_->IssueNodeCertificate(request, now_);
    ASSERT_FALSE(issued.ok()) << domain;
    EXPECT_NE(issued.error().message.find("trust domain"), std::string::npos);
  }
  NodeCertificateRequest request = Request(csr);
  request.trust_domain = "prod_1.example-org.test";
  EXPECT_TRUE(ca_->IssueNodeCertificate(request, now_).ok());
}

TEST_F(IssueTest, RefusesCsrsForOtherKeysAndBrokenCsrs) {
  EXPECT_NE(RefusalFor(OpensslCsr({"rsa:2048"}, "rsa.key"))
                .find("its key is of type RSA; only ECDSA P-256 keys"),
            std::string::npos);
  EXPECT_NE(RefusalFor(OpensslCsr({"ec", "-pkeyopt", "ec_paramgen_curve:P-384"}, "p384.key"))
                .find("curve secp384r1; only P-256"),
            std::string::npos);
  EXPECT_NE(RefusalFor(OpensslCsr({"ec", "-pkeyopt", "ec_paramgen_curve:P-256"}, "sha1.key",
                                  {"-sha1", "-subj", "/CN=node"}))
                .find("signed with SHA1"),
            std::string::npos);

  // A signature that does not verify: the last DER byte is in ECDSA's s.
  const std::string good = MakeCsr(EvpPkeyPtr(EVP_EC_gen("P-256")).get());
  BioPtr in(BIO_new_mem_buf(good.data(), static_cast<int>(good.size())));
  X509ReqPtr request(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
  unsigned char* der = nullptr;
  const int size = i2d_X509_REQ(request.get(), &der);
  der[size - 1] ^= 0x01;
  const unsigned char* cursor = der;
  X509ReqPtr tampered(d2i_X509_REQ(nullptr, &cursor, size));
  OPENSSL_free(der);
  ASSERT_TRUE(tampered);
  BioPtr out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(out.get(), tampered.get());
  char* data = nullptr;
  const std::string bad_signature(data,
                                  static_cast<std::size_t>(BIO_get_mem_data(out.get(), &data)));
  EXPECT_NE(RefusalFor(bad_signature).find("self-signature does not verify"), std::string::npos);
  EXPECT_EQ(CsrPublicKey(bad_signature).error().code, ErrorCode::kInvalidArgument);

  EXPECT_NE(RefusalFor(good + good).find("not exactly one PEM block"), std::string::npos);
  EXPECT_NE(RefusalFor("junk\n" + good).find("not exactly one PEM block"), std::string::npos);
  EXPECT_NE(RefusalFor(good + "junk\n").find("bytes after the PEM block"), std::string::npos);
  EXPECT_NE(RefusalFor(good + std::string(16 * 1024, '\n')).find("limit"), std::string::npos);
  std::string cut = good;
  cut.erase(cut.size() / 2, 20);
  EXPECT_NE(RefusalFor(cut).find("not a PKCS#10"), std::string::npos);
  EXPECT_NE(RefusalFor(ca_->chain_pem()).find("not a PKCS#10"), std::string::npos);
  // Surrounding whitespace is fine.
  EXPECT_TRUE(ca_->IssueNodeCertificate(Request("\n" + good + "\n\n"), now_).ok());
}

TEST_F(IssueTest, ServerCertificateNamesHostsAndAddresses) {
  auto issued = ca_->IssueServerCertificate({"verifier.example", "127.0.0.1", "::1"},
                                            File("server.key"), hours(24 * 30), now_);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  struct stat info {};
  ASSERT_EQ(::stat(File("server.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  X509Ptr leaf = ParseCertificate(issued->certificate_pem);
  EvpPkeyPtr key = ReadPrivateKeyFile(File("server.key"));
  EXPECT_EQ(X509_check_private_key(leaf.get(), key.get()), 1);
  EXPECT_EQ(SubjectText(leaf.get()), "CN=verifier.example");
  EXPECT_EQ(AltNames(leaf.get()),
            (std::vector<std::string>{"DNS:verifier.example", "IP:4 bytes", "IP:16 bytes"}));
  EXPECT_EQ(ExtendedKeyUsages(leaf.get()), std::vector<int>{NID_server_auth});
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  // Never past the CA, whatever lifetime was asked for.
  EXPECT_EQ(issued->not_after, ca_->not_after());
  WriteFile("server.pem", issued->certificate_pem);
  const std::string printed =
      Openssl({"x509", "-in", File("server.pem"), "-noout", "-ext", "subjectAltName"});
  EXPECT_NE(printed.find("DNS:verifier.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
            std::string::npos)
      << printed;
  Openssl({"verify", "-purpose", "sslserver", "-CAfile", File("ca.pem"), File("server.pem")});
  auto as_client = OpensslMayFail(
      {"verify", "-purpose", "sslclient", "-CAfile", File("ca.pem"), File("server.pem")});
  EXPECT_NE(as_client.exit_code, 0);

  // The key file is never replaced, and bad names are refused before any key is made.
  auto again =
      ca_->IssueServerCertificate({"verifier.example"}, File("server.key"), hours(1), now_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  auto bad = ca_->IssueServerCertificate({"verifier.example", "not a name"}, File("other.key"),
                                         hours(1), now_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(PathExists(File("other.key")));
  EXPECT_FALSE(ca_->IssueServerCertificate({}, File("other.key"), hours(1), now_).ok());
}

}  // namespace
}  // namespace attest::verifier::test
