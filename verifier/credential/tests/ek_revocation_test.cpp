// CRLs in the TPM CA bundle, with certificates and CRLs made here: a root,
// an intermediate that issues EK certificates, and CRLs of either. An
// issuer with a CRL in the bundle is checked, one without is not.
#include "ek_revocation.h"

#include <gtest/gtest.h>

#include "attest/testing/test_support.h"
#include "attest/verifier/ek_certificate.h"

#include "test_certificates.h"

namespace attest::verifier {
namespace {

using attest::test::RunCommand;
using attest::test::TempDir;
using attest::test::WriteText;
using test::CaSpec;
using test::CertificateSpec;
using test::CrlSpec;
using test::EkPublicFor;
using test::MakeCertificate;
using test::MakeCrl;
using test::MakeEcKey;
using test::ToDer;
using test::ToPem;

const TimePoint kCrlCheckTime =
    TimePoint(std::chrono::seconds(1800000000));  // 2027-01-15T08:00:00Z

class EkRevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeCertificate(CaSpec("Test TPM Root"), root_key_.get(), nullptr, nullptr);
    intermediate_ = MakeCertificate(CaSpec("Test TPM Intermediate"), intermediate_key_.get(),
                                    root_.get(), root_key_.get());
    ek_ = MakeCertificate(CertificateSpec{}, ek_key_.get(), intermediate_.get(),
                          intermediate_key_.get());
    ASSERT_EQ(RunCommand({"mkdir", Directory()}).exit_code, 0);
    WriteText(Directory() + "/root.pem", ToPem(root_.get()));
    WriteText(Directory() + "/intermediate.pem", ToPem(intermediate_.get()));
  }

  std::string Directory() const { return files_.File("cas"); }

  // The intermediate's CRL, as issued by the intermediate.
  X509CrlPtr IntermediateCrl(const CrlSpec& spec) {
    return MakeCrl(spec, intermediate_.get(), intermediate_key_.get());
  }
  X509CrlPtr RootCrl(const CrlSpec& spec) { return MakeCrl(spec, root_.get(), root_key_.get()); }

  Result<EkCaBundle> Load() { return EkCaBundle::Load(Directory()); }

  // `ek` certifies ek_key_ unless `key` says otherwise.
  Result<EkCertificateInfo> Verify(X509* ek, TimePoint now = kCrlCheckTime,
                                   EVP_PKEY* key = nullptr) {
    auto bundle = Load();
    EXPECT_TRUE(bundle.ok()) << bundle.error().ToString();
    if (!bundle.ok()) return bundle.error();
    return VerifyEkCertificate(ToDer(ek), EkPublicFor(key != nullptr ? key : ek_key_.get()),
                               *bundle, now);
  }

  std::string Refusal(X509* ek, TimePoint now = kCrlCheckTime, EVP_PKEY* key = nullptr) {
    auto result = Verify(ek, now, key);
    EXPECT_FALSE(result.ok());
    if (result.ok()) return "accepted";
    EXPECT_EQ(result.error().code, ErrorCode::kVerificationFailed) << result.error().message;
    return result.error().message;
  }

  std::string Serial(X509* certificate) { return internal::SerialHex(certificate); }

  TempDir files_{"ek_revocation_test"};
  EvpPkeyPtr root_key_ = MakeEcKey("P-384");
  EvpPkeyPtr intermediate_key_ = MakeEcKey("P-256");
  EvpPkeyPtr ek_key_ = MakeEcKey("P-256");
  X509Ptr root_, intermediate_, ek_;
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The hole: CRLs were not read at all (a CRL file in the bundle directory
// was even an error), so a revoked EK certificate enrolled.
TEST_F(EkRevocationTest, ARevokedEkCertificateIsRefusedNamingItsSerial) {
  ASSERT_TRUE(Verify(ek_.get()).ok());
  CrlSpec spec;
  spec.revoked = {{ek_.get(), 1}};
  WriteText(Directory() + "/intermediate.crl", ToPem(IntermediateCrl(spec).get()));
  const std::string message = Refusal(ek_.get());
  EXPECT_TRUE(Contains(message, "EK certificate (serial " + Serial(ek_.get()) +
                                    ") is revoked by the CRL of CN=Test TPM Intermediate "
                                    "(revoked 2023-11-14T22:13:20Z, reason keyCompromise)"))
      << message;

  // The same CRL in DER, and in a single-file bundle after the certificates.
  const Bytes der = ToDer(IntermediateCrl(spec).get());
  WriteText(Directory() + "/intermediate.crl", std::string(AsText(der)));
  EXPECT_TRUE(Contains(Refusal(ek_.get()), "is revoked"));
  WriteText(files_.File("bundle.pem"),
            ToPem(root_.get()) + ToPem(intermediate_.get()) + ToPem(IntermediateCrl(spec).get()));
  auto file_bundle = EkCaBundle::Load(files_.File("bundle.pem"));
  ASSERT_TRUE(file_bundle.ok()) << file_bundle.error().ToString();
  EXPECT_EQ(file_bundle->size(), 2u);
  EXPECT_EQ(file_bundle->crls().size(), 1u);
  auto refused = VerifyEkCertificate(ToDer(ek_.get()), EkPublicFor(ek_key_.get()), *file_bundle,
                                     kCrlCheckTime);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.error().message, "is revoked")) << refused.error().message;
}

TEST_F(EkRevocationTest, ARevokedIntermediateIsRefused) {
  CrlSpec spec;
  spec.revoked = {{intermediate_.get(), 2}};
  WriteText(Directory() + "/root.crl", ToPem(RootCrl(spec).get()));
  const std::string message = Refusal(ek_.get());
  EXPECT_TRUE(Contains(message,
                       "TPM CA certificate CN=Test TPM Intermediate at depth 1 of the EK "
                       "certificate's chain (serial " +
                           Serial(intermediate_.get()) +
                           ") is revoked by the CRL of CN=Test TPM Root"))
      << message;
  EXPECT_TRUE(Contains(message, "reason cACompromise")) << message;
}

// An issuer without a CRL in the bundle is not checked, and a CRL of
// another issuer (the root's, revoking something else) changes nothing for
// the EK certificate.
TEST_F(EkRevocationTest, AnIssuerWithoutACrlAndACrlOfAnotherIssuerStillPass) {
  EvpPkeyPtr other_key = MakeEcKey("P-256");
  X509Ptr other = MakeCertificate(CertificateSpec{}, other_key.get(), intermediate_.get(),
                                  intermediate_key_.get());
  CrlSpec root_spec;
  root_spec.revoked = {{other.get(), 1}};  // a serial that is not the intermediate's
  WriteText(Directory() + "/root.crl", ToPem(RootCrl(root_spec).get()));
  auto info = Verify(ek_.get());
  ASSERT_TRUE(info.ok()) << info.error().ToString();

  // The intermediate's CRL revokes another EK certificate, not this one.
  CrlSpec intermediate_spec;
  intermediate_spec.revoked = {{other.get(), 1}};
  WriteText(Directory() + "/intermediate.crl", ToPem(IntermediateCrl(intermediate_spec).get()));
  info = Verify(ek_.get());
  EXPECT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_TRUE(Contains(Refusal(other.get(), kCrlCheckTime, other_key.get()),
                       "EK certificate (serial " + Serial(other.get()) + ") is revoked"));
}

// Decided like OpenSSL's CRL check: an expired CRL leaves revocation
// unknown, and the operator asked for it by putting the CRL there.
TEST_F(EkRevocationTest, AnExpiredCrlIsRefusedAndTheNewestCrlDecides) {
  CrlSpec expired;
  expired.this_update = TimePoint(std::chrono::seconds(1700000000));
  expired.next_update = TimePoint(std::chrono::seconds(1750000000));
  WriteText(Directory() + "/old.crl", ToPem(IntermediateCrl(expired).get()));
  const std::string message = Refusal(ek_.get());
  EXPECT_TRUE(Contains(message, "EK certificate (serial " + Serial(ek_.get()) +
                                    "): the newest CRL of its issuer CN=Test TPM Intermediate "
                                    "expired at 2025-06-15T15:06:40Z (nextUpdate)"))
      << message;
  // Still valid at an earlier time.
  EXPECT_TRUE(Verify(ek_.get(), TimePoint(std::chrono::seconds(1740000000))).ok());

  // A current CRL beside it decides (the newest by thisUpdate).
  CrlSpec current;
  current.this_update = TimePoint(std::chrono::seconds(1790000000));
  WriteText(Directory() + "/current.crl", ToPem(IntermediateCrl(current).get()));
  auto info = Verify(ek_.get());
  EXPECT_TRUE(info.ok()) << info.error().ToString();

  // A newer CRL that revokes wins over an older one that does not.
  CrlSpec newer = current;
  newer.this_update = TimePoint(std::chrono::seconds(1795000000));
  newer.revoked = {{ek_.get(), 1}};
  WriteText(Directory() + "/newer.crl", ToPem(IntermediateCrl(newer).get()));
  EXPECT_TRUE(Contains(Refusal(ek_.get()), "is revoked"));
  // ... but not before it was issued: then the older, current one decides.
  EXPECT_TRUE(Verify(ek_.get(), TimePoint(std::chrono::seconds(1792000000))).ok());

  // A CRL without nextUpdate does not expire: the expired CRL's window
  // without its end passes.
  ASSERT_EQ(RunCommand({"sh", "-c", "rm " + Directory() + "/*.crl"}).exit_code, 0);
  CrlSpec open_ended = expired;
  open_ended.next_update.reset();
  WriteText(Directory() + "/open.crl", ToPem(IntermediateCrl(open_ended).get()));
  info = Verify(ek_.get());
  EXPECT_TRUE(info.ok()) << info.error().ToString();
}

TEST_F(EkRevocationTest, ACrlNotYetIssuedIsRefused) {
  CrlSpec future;
  future.this_update = TimePoint(std::chrono::seconds(1850000000));
  WriteText(Directory() + "/future.crl", ToPem(IntermediateCrl(future).get()));
  EXPECT_TRUE(Contains(Refusal(ek_.get()), "starts (thisUpdate) after the verification time"));
}

// A CRL with the intermediate's name but another key's signature is a
// forgery or a mistake; either way the bundle does not load.
TEST_F(EkRevocationTest, ACrlSignedByTheWrongKeyIsRefused) {
  EvpPkeyPtr other_key = MakeEcKey("P-256");
  CrlSpec spec;
  WriteText(Directory() + "/forged.crl",
            ToPem(MakeCrl(spec, intermediate_.get(), other_key.get()).get()));
  auto bundle = Load();
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bundle.error().message, Directory() + "/forged.crl: CRL of CN=Test TPM "
                                                             "Intermediate: its signature does "
                                                             "not verify"))
      << bundle.error().message;

  // A CRL whose issuer is not in the bundle at all.
  X509Ptr stranger = MakeCertificate(CaSpec("Stranger CA"), other_key.get(), nullptr, nullptr);
  WriteText(Directory() + "/forged.crl",
            ToPem(MakeCrl(spec, stranger.get(), other_key.get()).get()));
  bundle = Load();
  ASSERT_FALSE(bundle.ok());
  EXPECT_TRUE(Contains(bundle.error().message,
                       "CRL of CN=Stranger CA: no CA certificate in the "
                       "bundle has this subject"))
      << bundle.error().message;
}

// RFC 5280 §4.2.1.3: a CA whose keyUsage lacks cRLSign may not sign CRLs
// (swtpm's local CA is such a CA: keyCertSign only).
TEST_F(EkRevocationTest, ACrlFromACaThatMayNotSignCrlsIsRefused) {
  CertificateSpec no_crl_sign = CaSpec("Test TPM Intermediate");
  no_crl_sign.key_usage = "critical,keyCertSign";
  intermediate_ =
      MakeCertificate(no_crl_sign, intermediate_key_.get(), root_.get(), root_key_.get());
  WriteText(Directory() + "/intermediate.pem", ToPem(intermediate_.get()));
  WriteText(Directory() + "/intermediate.crl", ToPem(IntermediateCrl(CrlSpec{}).get()));
  auto bundle = Load();
  ASSERT_FALSE(bundle.ok());
  EXPECT_TRUE(Contains(bundle.error().message, "does not allow signing CRLs (cRLSign)"))
      << bundle.error().message;
}

TEST_F(EkRevocationTest, CrlsThisCheckCannotApplyAreRefusedAtLoad) {
  CrlSpec delta;
  delta.delta = true;
  CrlSpec some_reasons;
  some_reasons.only_some_reasons = true;
  const std::pair<CrlSpec, const char*> cases[] = {
      {delta, "delta CRL (deltaCRLIndicator)"},
      {some_reasons, "only some revocation reasons (onlySomeReasons)"},
  };
  for (const auto& [spec, why] : cases) {
    WriteText(Directory() + "/odd.crl", ToPem(IntermediateCrl(spec).get()));
    auto bundle = Load();
    ASSERT_FALSE(bundle.ok()) << why;
    EXPECT_EQ(bundle.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Contains(bundle.error().message, why)) << bundle.error().message;
  }

  WriteText(Directory() + "/odd.crl", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
  auto broken = Load();
  ASSERT_FALSE(broken.ok());
  EXPECT_TRUE(Contains(broken.error().message, "1 of 1 PEM CRLs do not parse"))
      << broken.error().message;
}

// issuingDistributionPoint scope (RFC 5280 §5.2.5): a CRL covers the kinds
// of certificate and the distribution point it says. If the issuer has CRLs
// but none covers the certificate, revocation is unknown: refused.
TEST_F(EkRevocationTest, ACrlCoversOnlyTheCertificatesInItsScope) {
  CrlSpec users;
  users.only_user_certificates = true;
  users.revoked = {{ek_.get(), 1}};
  WriteText(Directory() + "/intermediate.crl", ToPem(IntermediateCrl(users).get()));
  EXPECT_TRUE(Contains(Refusal(ek_.get()), "is revoked"));

  CrlSpec cas = users;
  cas.only_user_certificates = false;
  cas.only_ca_certificates = true;
  WriteText(Directory() + "/intermediate.crl", ToPem(IntermediateCrl(cas).get()));
  EXPECT_TRUE(Contains(Refusal(ek_.get()), "none covers this certificate"));

  // Partitioned by distribution point: the partition the EK certificate
  // names decides; another partition alone leaves it unknown.
  CertificateSpec partitioned;
  partitioned.crl_distribution_point = "http://ca.example/part1.crl";
  X509Ptr ek =
      MakeCertificate(partitioned, ek_key_.get(), intermediate_.get(), intermediate_key_.get());
  CrlSpec part1;
  part1.distribution_point_uri = "http://ca.example/part1.crl";
  part1.revoked = {{ek.get(), 1}};
  CrlSpec part2;
  part2.distribution_point_uri = "http://ca.example/part2.crl";
  WriteText(Directory() + "/intermediate.crl", ToPem(IntermediateCrl(part2).get()));
  EXPECT_TRUE(Contains(Refusal(ek.get()), "none covers this certificate"));
  WriteText(Directory() + "/part1.crl", ToPem(IntermediateCrl(part1).get()));
  EXPECT_TRUE(Contains(Refusal(ek.get()), "is revoked"));
  part1.revoked.clear();
  WriteText(Directory() + "/part1.crl", ToPem(IntermediateCrl(part1).get()));
  auto info = Verify(ek.get());
  EXPECT_TRUE(info.ok()) << info.error().ToString();
}

}  // namespace
}  // namespace attest::verifier
