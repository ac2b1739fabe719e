// EK certificate checks with certificates made here: a manufacturer root, an
// intermediate, and EK certificates shaped like the TCG EK Credential
// Profile's (empty subject, critical SAN directoryName of TPM attributes).
#include "attest/verifier/ek_certificate.h"

#include <gtest/gtest.h>

#include "attest/testing/test_support.h"
#include "attest/tpm/public_key.h"

#include "test_certificates.h"

namespace attest::verifier {
namespace {

using attest::test::RunCommand;
using attest::test::TempDir;
using attest::test::WriteText;
using test::CaSpec;
using test::CertificateSpec;
using test::EkPublicFor;
using test::MakeCertificate;
using test::MakeEcKey;
using test::MakeRsaKey;
using test::ToDer;
using test::ToPem;

const TimePoint kNow = TimePoint(std::chrono::seconds(1800000000));  // 2027-01-15

CertificateSpec TcgEk() {
  CertificateSpec spec;
  spec.tpm_manufacturer = "id:414D4400";
  spec.tpm_model = "test-tpm";
  spec.tpm_version = "id:00010002";
  return spec;
}

class EkCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeCertificate(CaSpec("Test TPM Root"), root_key_.get(), nullptr, nullptr);
    intermediate_ = MakeCertificate(CaSpec("Test TPM Intermediate"), intermediate_key_.get(),
                                    root_.get(), root_key_.get());
    WriteText(files_.File("bundle.pem"), ToPem(root_.get()) + ToPem(intermediate_.get()));
    auto bundle = EkCaBundle::Load(files_.File("bundle.pem"));
    ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
    bundle_ = std::make_unique<EkCaBundle>(std::move(bundle).value());
  }

  Bytes IssueEk(const CertificateSpec& spec) {
    return ToDer(
        MakeCertificate(spec, ek_key_.get(), intermediate_.get(), intermediate_key_.get()).get());
  }

  Error Refusal(ByteView der, ByteView ek_public, const EkCaBundle& bundle, TimePoint now = kNow) {
    auto result = VerifyEkCertificate(der, ek_public, bundle, now);
    EXPECT_FALSE(result.ok());
    return result.ok() ? Error{ErrorCode::kInternal, "accepted"} : result.error();
  }

  TempDir files_{"ek_certificate_test"};
  EvpPkeyPtr root_key_ = MakeEcKey("P-384");
  EvpPkeyPtr intermediate_key_ = MakeEcKey("P-256");
  EvpPkeyPtr ek_key_ = MakeEcKey("P-256");
  X509Ptr root_, intermediate_;
  std::unique_ptr<EkCaBundle> bundle_;
};

TEST_F(EkCertificateTest, TcgShapedCertificateVerifiesAndNamesTheTpm) {
  auto info = VerifyEkCertificate(IssueEk(TcgEk()), EkPublicFor(ek_key_.get()), *bundle_, kNow);
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->subject, "");
  EXPECT_EQ(info->issuer, "CN=Test TPM Intermediate");
  EXPECT_EQ(info->tpm_manufacturer, "id:414D4400");
  EXPECT_EQ(info->tpm_model, "test-tpm");
  EXPECT_EQ(info->tpm_version, "id:00010002");
  EXPECT_EQ(info->not_after, "2030-03-17T17:46:40Z");  // 1900000000
  EXPECT_FALSE(info->serial.empty());
  EXPECT_EQ(info->serial.find_first_not_of("0123456789abcdef"), std::string::npos) << info->serial;
  auto ek = tpm::ParsePublic(EkPublicFor(ek_key_.get()));
  ASSERT_TRUE(ek.ok());
  auto node_id = tpm::NodeId(ek->publicArea);
  ASSERT_TRUE(node_id.ok()) << node_id.error().ToString();
  EXPECT_EQ(info->node_id, *node_id);
}

TEST_F(EkCertificateTest, AnRsaEkAndACertificateWithoutTpmAttributesVerify) {
  EvpPkeyPtr rsa = MakeRsaKey(2048);
  CertificateSpec plain;
  plain.common_name = "ek";
  X509Ptr certificate =
      MakeCertificate(plain, rsa.get(), intermediate_.get(), intermediate_key_.get());
  auto info = VerifyEkCertificate(ToDer(certificate.get()), EkPublicFor(rsa.get()), *bundle_, kNow);
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->subject, "CN=ek");
  EXPECT_EQ(info->tpm_manufacturer, "");
}

// The critical-extension policy (ek_certificate.cpp): a critical
// subjectDirectoryAttributes on the EK certificate is tolerated; any other
// unknown critical extension, or one on a CA, is not.
TEST_F(EkCertificateTest, OnlyKnownTcgCriticalExtensionsAreTolerated) {
  CertificateSpec tolerated = TcgEk();
  tolerated.critical_extensions = {"2.5.29.9"};
  auto info = VerifyEkCertificate(IssueEk(tolerated), EkPublicFor(ek_key_.get()), *bundle_, kNow);
  EXPECT_TRUE(info.ok()) << info.error().ToString();

  CertificateSpec unknown = TcgEk();
  unknown.critical_extensions = {"2.5.29.9", "1.3.6.1.4.1.55555.1"};
  Error error = Refusal(IssueEk(unknown), EkPublicFor(ek_key_.get()), *bundle_);
  EXPECT_EQ(error.code, ErrorCode::kVerificationFailed);
  EXPECT_NE(error.message.find("unhandled critical extension at depth 0"), std::string::npos)
      << error.message;

  CertificateSpec odd_ca = CaSpec("Odd Intermediate");
  odd_ca.critical_extensions = {"2.5.29.9"};
  EvpPkeyPtr odd_key = MakeEcKey("P-256");
  X509Ptr odd = MakeCertificate(odd_ca, odd_key.get(), root_.get(), root_key_.get());
  WriteText(files_.File("odd.pem"), ToPem(root_.get()) + ToPem(odd.get()));
  auto odd_bundle = EkCaBundle::Load(files_.File("odd.pem"));
  ASSERT_TRUE(odd_bundle.ok());
  X509Ptr ek = MakeCertificate(TcgEk(), ek_key_.get(), odd.get(), odd_key.get());
  error = Refusal(ToDer(ek.get()), EkPublicFor(ek_key_.get()), *odd_bundle);
  EXPECT_NE(error.message.find("unhandled critical extension at depth 1"), std::string::npos)
      << error.message;
}

// The hole (issue 10, item 9): an EK certificate's purpose was never
// checked, so a CA certificate, or a certificate for another use, passed as
// long as it certified the EK's key.
TEST_F(EkCertificateTest, ACaLeafIsRefused) {
  const Bytes ek_public = EkPublicFor(ek_key_.get());
  CertificateSpec ca_leaf = TcgEk();
  ca_leaf.is_ca = true;
  ca_leaf.key_usage = "critical,keyAgreement";  // the EK's own usage, and cA TRUE
  Error error = Refusal(IssueEk(ca_leaf), ek_public, *bundle_);
  EXPECT_EQ(error.code, ErrorCode::kVerificationFailed);
  EXPECT_NE(error.message.find("EK certificate is a CA certificate (basicConstraints cA TRUE)"),
            std::string::npos)
      << error.message;

  // keyCertSign or cRLSign without basicConstraints: a CA by its key usage.
  for (const char* usage : {"critical,keyAgreement,keyCertSign", "critical,keyAgreement,cRLSign"}) {
    CertificateSpec signer = TcgEk();
    signer.omit_basic_constraints = true;
    signer.key_usage = usage;
    error = Refusal(IssueEk(signer), ek_public, *bundle_);
    EXPECT_EQ(error.code, ErrorCode::kVerificationFailed) << usage;
    EXPECT_NE(error.message.find("allows signing certificates or CRLs"), std::string::npos)
        << usage << ": " << error.message;
  }

  // Without basicConstraints and with the EK's usage, the leaf is an
  // end-entity certificate (RFC 5280: cA defaults to FALSE).
  CertificateSpec plain = TcgEk();
  plain.omit_basic_constraints = true;
  auto info = VerifyEkCertificate(IssueEk(plain), ek_public, *bundle_, kNow);
  EXPECT_TRUE(info.ok()) << info.error().ToString();
}

TEST_F(EkCertificateTest, AnEkCertificateWithoutKeyUsageIsRefused) {
  EvpPkeyPtr rsa = MakeRsaKey(2048);
  for (EVP_PKEY* key : {ek_key_.get(), rsa.get()}) {
    CertificateSpec spec = TcgEk();
    spec.key_usage = "none";
    X509Ptr certificate = MakeCertificate(spec, key, intermediate_.get(), intermediate_key_.get());
    Error error = Refusal(ToDer(certificate.get()), EkPublicFor(key), *bundle_);
    EXPECT_EQ(error.code, ErrorCode::kVerificationFailed);
    EXPECT_NE(error.message.find("EK certificate has no keyUsage extension"), std::string::npos)
        << error.message;
  }
}

TEST_F(EkCertificateTest, AnEkCertificateWithTheWrongKeyUsageIsRefused) {
  EvpPkeyPtr rsa = MakeRsaKey(2048);
  struct Case {
    EVP_PKEY* key;
    const char* usage;
    const char* lacking;
  };
  const Case cases[] = {
      {rsa.get(), "critical,keyAgreement", "lacks keyEncipherment"},
      {rsa.get(), "critical,digitalSignature", "lacks keyEncipherment"},
      {rsa.get(), "critical,dataEncipherment", "lacks keyEncipherment"},
      {ek_key_.get(), "critical,keyEncipherment", "lacks keyAgreement"},
      {ek_key_.get(), "critical,digitalSignature", "lacks keyAgreement"},
  };
  for (const Case& wrong : cases) {
    CertificateSpec spec = TcgEk();
    spec.key_usage = wrong.usage;
    X509Ptr certificate =
        MakeCertificate(spec, wrong.key, intermediate_.get(), intermediate_key_.get());
    Error error = Refusal(ToDer(certificate.get()), EkPublicFor(wrong.key), *bundle_);
    EXPECT_EQ(error.code, ErrorCode::kVerificationFailed) << wrong.usage;
    EXPECT_NE(error.message.find(wrong.lacking), std::string::npos)
        << wrong.usage << ": " << error.message;
  }

  // The required usage among others, and a non-critical extension, pass:
  // the profile's usage must be included, nothing more is asked.
  for (auto [key, usage] : {std::pair{rsa.get(), "critical,keyEncipherment,digitalSignature"},
                            std::pair{ek_key_.get(), "keyAgreement"}}) {
    CertificateSpec spec = TcgEk();
    spec.key_usage = usage;
    X509Ptr certificate = MakeCertificate(spec, key, intermediate_.get(), intermediate_key_.get());
    auto info = VerifyEkCertificate(ToDer(certificate.get()), EkPublicFor(key), *bundle_, kNow);
    EXPECT_TRUE(info.ok()) << usage << ": " << info.error().ToString();
  }
}

TEST_F(EkCertificateTest, ExpiredAndNotYetValidCertificatesAreRefused) {
  const Bytes der = IssueEk(TcgEk());
  const Bytes ek_public = EkPublicFor(ek_key_.get());
  Error expired = Refusal(der, ek_public, *bundle_, TimePoint(std::chrono::seconds(1900000001)));
  EXPECT_EQ(expired.code, ErrorCode::kVerificationFailed);
  EXPECT_NE(expired.message.find("EK certificate is not valid at 2030-03-17T17:46:41"),
            std::string::npos)
      << expired.message;
  EXPECT_NE(expired.message.find("expired"), std::string::npos) << expired.message;
  Error early = Refusal(der, ek_public, *bundle_, TimePoint(std::chrono::seconds(1699999999)));
  EXPECT_NE(early.message.find("not yet valid"), std::string::npos) << early.message;

  // An expired root: the chain, not the EK certificate, is out of date.
  CertificateSpec old_root = CaSpec("Old TPM Root");
  old_root.not_after = TimePoint(std::chrono::seconds(1750000000));
  X509Ptr root = MakeCertificate(old_root, root_key_.get(), nullptr, nullptr);
  X509Ptr intermediate = MakeCertificate(CaSpec("Test TPM Intermediate"), intermediate_key_.get(),
                                         root.get(), root_key_.get());
  WriteText(files_.File("old.pem"), ToPem(root.get()) + ToPem(intermediate.get()));
  auto old_bundle = EkCaBundle::Load(files_.File("old.pem"));
  ASSERT_TRUE(old_bundle.ok());
  Error chain = Refusal(der, ek_public, *old_bundle);
  EXPECT_NE(chain.message.find("TPM CA certificate at depth 2 of the EK certificate's chain is "
                               "not valid at 2027-01-15T08:00:00"),
            std::string::npos)
      << chain.message;

  // Expired by the system clock too (the overload without a time).
  CertificateSpec old = TcgEk();
  old.not_after = TimePoint(std::chrono::seconds(1710000000));
  auto refused = VerifyEkCertificate(IssueEk(old), ek_public, *bundle_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("expired"), std::string::npos);
}

TEST_F(EkCertificateTest, AnotherCaOrAMissingRootIsRefused) {
  EvpPkeyPtr other_key = MakeEcKey("P-256");
  // Same names as the real CA: only the keys differ.
  X509Ptr other =
      MakeCertificate(CaSpec("Test TPM Intermediate"), other_key.get(), nullptr, nullptr);
  WriteText(files_.File("other.pem"), ToPem(other.get()));
  WriteText(files_.File("intermediate-only.pem"), ToPem(intermediate_.get()));
  for (const std::string& path : {files_.File("other.pem"), files_.File("intermediate-only.pem")}) {
    auto bundle = EkCaBundle::Load(path);
    ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
    Error error = Refusal(IssueEk(TcgEk()), EkPublicFor(ek_key_.get()), *bundle);
    EXPECT_EQ(error.code, ErrorCode::kVerificationFailed);
    EXPECT_NE(error.message.find("does not chain to the configured TPM CA bundle (" + path + ")"),
              std::string::npos)
        << error.message;
  }
}

TEST_F(EkCertificateTest, ACertificateForAnotherKeyIsRefused) {
  const Bytes der = IssueEk(TcgEk());
  EvpPkeyPtr other_ec = MakeEcKey("P-256");
  EvpPkeyPtr rsa = MakeRsaKey(2048);
  for (EVP_PKEY* other : {other_ec.get(), rsa.get()}) {
    Error error = Refusal(der, EkPublicFor(other), *bundle_);
    EXPECT_EQ(error.code, ErrorCode::kVerificationFailed);
    EXPECT_NE(error.message.find("another key"), std::string::npos) << error.message;
  }
}

TEST_F(EkCertificateTest, CorruptInputIsRefused) {
  const Bytes der = IssueEk(TcgEk());
  const Bytes ek_public = EkPublicFor(ek_key_.get());
  EXPECT_EQ(Refusal(Bytes(der.begin(), der.end() - 10), ek_public, *bundle_).code,
            ErrorCode::kCorrupt);
  EXPECT_EQ(Refusal(Bytes{0x30, 0x03, 0x02, 0x01, 0x01}, ek_public, *bundle_).code,
            ErrorCode::kCorrupt);
  EXPECT_EQ(Refusal({}, ek_public, *bundle_).code, ErrorCode::kCorrupt);
  Bytes padded = der;
  padded.insert(padded.end(), 16, 0xff);  // NV padding left in
  Error error = Refusal(padded, ek_public, *bundle_);
  EXPECT_EQ(error.code, ErrorCode::kCorrupt);
  EXPECT_NE(error.message.find("16 bytes after"), std::string::npos) << error.message;
  // A signature that does not match.
  Bytes tampered = der;
  tampered[tampered.size() - 3] ^= 0x01;
  EXPECT_EQ(Refusal(tampered, ek_public, *bundle_).code, ErrorCode::kVerificationFailed);
  EXPECT_EQ(Refusal(der, Bytes{0x00, 0x02, 0x00}, *bundle_).code, ErrorCode::kCorrupt);
}

TEST_F(EkCertificateTest, BundlesLoadFromPemDerAndDirectories) {
  const std::string directory = files_.File("cas");
  ASSERT_EQ(RunCommand({"mkdir", directory}).exit_code, 0);
  WriteText(directory + "/root.pem", ToPem(root_.get()));
  const Bytes intermediate_der = ToDer(intermediate_.get());
  WriteText(directory + "/intermediate.der", std::string(AsText(intermediate_der)));
  WriteText(directory + "/.hidden", "not a certificate");
  auto bundle = EkCaBundle::Load(directory);
  ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
  EXPECT_EQ(bundle->size(), 2u);
  EXPECT_TRUE(
      VerifyEkCertificate(IssueEk(TcgEk()), EkPublicFor(ek_key_.get()), *bundle, kNow).ok());

  WriteText(directory + "/README", "not a certificate");
  auto junk = EkCaBundle::Load(directory);
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(junk.error().message.find(directory + "/README"), std::string::npos);

  std::string broken = ToPem(root_.get()) + ToPem(intermediate_.get());
  broken[broken.size() - 40] = '!';
  WriteText(files_.File("broken.pem"), broken);
  auto refused = EkCaBundle::Load(files_.File("broken.pem"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(refused.error().message.find("1 of 2 PEM certificates"), std::string::npos)
      << refused.error().message;

  EXPECT_EQ(EkCaBundle::Load(files_.File("missing.pem")).error().code, ErrorCode::kNotFound);
  ASSERT_EQ(RunCommand({"mkdir", files_.File("empty")}).exit_code, 0);
  EXPECT_EQ(EkCaBundle::Load(files_.File("empty")).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace attest::verifier
