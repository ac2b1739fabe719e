// The CRL: read back by `openssl crl` and through the OpenSSL API, and
// used by `openssl verify -crl_check` to refuse a revoked certificate.
#include <algorithm>
#include <cctype>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "attest/verifier/certificate_authority.h"

#include "ca_test_support.h"

namespace attest::verifier::test {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// How `openssl crl -text` prints a serial: uppercase, whole bytes.
std::string PrintedSerial(std::string hex) {
  if (hex.size() % 2 == 1) hex.insert(hex.begin(), '0');
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return hex;
}

class CrlTest : public CaTest {
 protected:
  void SetUp() override {
    NewCaOptions options{File("ca.key"), File("ca.pem"), "crl test CA", hours(24)};
    ASSERT_TRUE(CreateSelfSignedCa(options, now_ - seconds(3600)).ok());
    auto ca = CertificateAuthority::Load(File("ca.pem"), File("ca.key"));
    ASSERT_TRUE(ca.ok()) << ca.error().ToString();
    ca_.emplace(std::move(ca).value());
  }

  IssuedCertificate Issue(const std::string& file) {
    NodeCertificateRequest request{MakeCsr(EvpPkeyPtr(EVP_EC_gen("P-256")).get()),
                                   std::string(64, 'b'), "", "example.org", seconds(3600)};
    auto issued = ca_->IssueNodeCertificate(request, now_);
    EXPECT_TRUE(issued.ok()) << issued.error().ToString();
    WriteFile(file, issued->certificate_pem);
    return *issued;
  }

  const TimePoint now_ = std::chrono::floor<seconds>(std::chrono::system_clock::now());
  std::optional<CertificateAuthority> ca_;
};

TEST_F(CrlTest, ListsTheRevokedSerialsSortedAndVerifyRefusesThem) {
  std::vector<IssuedCertificate> revoked_certificates;
  std::vector<RevokedCertificate> revoked;
  for (int i = 0; i < 4; ++i) {
    revoked_certificates.push_back(Issue("revoked" + std::to_string(i) + ".pem"));
    revoked.push_back({revoked_certificates.back().serial_hex, now_ - seconds(10 * i)});
  }
  // Not sorted on the way in.
  std::sort(revoked.begin(), revoked.end(), [](const auto& a, const auto& b) {
    return a.serial_hex.size() > b.serial_hex.size() ||
           (a.serial_hex.size() == b.serial_hex.size() && a.serial_hex > b.serial_hex);
  });
  revoked.push_back({"1", now_});  // small serials are fine too
  Issue("good.pem");
  auto crl = ca_->MakeCrl(revoked, 7, now_, hours(1));
  ASSERT_TRUE(crl.ok()) << crl.error().ToString();
  WriteFile("crl.pem", *crl);

  const std::string text = Openssl({"crl", "-in", File("crl.pem"), "-noout", "-text"});
  EXPECT_NE(text.find("Version 2 (0x1)"), std::string::npos) << text;
  EXPECT_NE(text.find("Signature Algorithm: ecdsa-with-SHA256"), std::string::npos) << text;
  EXPECT_NE(text.find("Issuer: CN = crl test CA"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 CRL Number: \n                7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Authority Key Identifier"), std::string::npos) << text;
  for (const RevokedCertificate& entry : revoked) {
    EXPECT_NE(text.find("Serial Number: " + PrintedSerial(entry.serial_hex) + "\n"),
              std::string::npos)
        << entry.serial_hex << "\n"
        << text;
  }
  Openssl({"crl", "-in", File("crl.pem"), "-noout", "-CAfile", File("ca.pem")});  // signature

  // Through the API: times, sorted entries, AKI = the CA's SKI.
  BioPtr bio(BIO_new_mem_buf(crl->data(), static_cast<int>(crl->size())));
  X509CrlPtr parsed(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(X509_CRL_get_version(parsed.get()), X509_CRL_VERSION_2);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(parsed.get()),
                                 std::chrono::system_clock::to_time_t(now_)),
            0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(parsed.get()),
                                 std::chrono::system_clock::to_time_t(now_ + hours(1))),
            0);
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(parsed.get());
  ASSERT_EQ(sk_X509_REVOKED_num(entries), 5);
  for (int i = 1; i < 5; ++i) {
    EXPECT_LT(
        ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i - 1)),
                         X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i))),
        0);
  }
  X509Ptr ca = ParseCertificate(ca_->chain_pem());
  using AkidPtr = std::unique_ptr<AUTHORITY_KEYID, OpensslDeleter<AUTHORITY_KEYID_free>>;
  AkidPtr akid(static_cast<AUTHORITY_KEYID*>(
      X509_CRL_get_ext_d2i(parsed.get(), NID_authority_key_identifier, nullptr, nullptr)));
  ASSERT_TRUE(akid);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(ca.get())), 0);

  // A relying party with the CRL refuses the revoked, accepts the other.
  for (int i = 0; i < 4; ++i) {
    auto check = OpensslMayFail({"verify", "-crl_check", "-CAfile", File("ca.pem"), "-CRLfile",
                                 File("crl.pem"), File("revoked" + std::to_string(i) + ".pem")});
    EXPECT_NE(check.exit_code, 0) << check.out;
    EXPECT_NE((check.out + check.err).find("certificate revoked"), std::string::npos)
        << check.out << check.err;
  }
  Openssl({"verify", "-crl_check", "-CAfile", File("ca.pem"), "-CRLfile", File("crl.pem"),
           File("good.pem")});
}

TEST_F(CrlTest, AnEmptyCrlIsValid) {
  auto crl = ca_->MakeCrl({}, 1, now_, hours(1));
  ASSERT_TRUE(crl.ok()) << crl.error().ToString();
  WriteFile("crl.pem", *crl);
  const std::string text = Openssl({"crl", "-in", File("crl.pem"), "-noout", "-text"});
  EXPECT_NE(text.find("No Revoked Certificates."), std::string::npos) << text;
  Issue("good.pem");
  Openssl({"verify", "-crl_check", "-CAfile", File("ca.pem"), "-CRLfile", File("crl.pem"),
           File("good.pem")});
}

TEST_F(CrlTest, RefusesBadSerialsDuplicatesAndNoValidity) {
  for (const std::string& serial :
       std::vector<std::string>{"", "XYZ", "ABCD", "-1", std::string(41, 'a')}) {
    std::vector<RevokedCertificate> revoked = {{serial, now_}};
    auto crl = ca_->MakeCrl(revoked, 1, now_, hours(1));
    ASSERT_FALSE(crl.ok()) << serial;
    EXPECT_EQ(crl.error().code, ErrorCode::kInvalidArgument) << serial;
  }
  std::vector<RevokedCertificate> twice = {{"abc", now_}, {"abc", now_}};
  auto crl = ca_->MakeCrl(twice, 1, now_, hours(1));
  ASSERT_FALSE(crl.ok());
  EXPECT_NE(crl.error().message.find("listed twice"), std::string::npos);
  EXPECT_FALSE(ca_->MakeCrl({}, 1, now_, seconds(0)).ok());
}

}  // namespace
}  // namespace attest::verifier::test
