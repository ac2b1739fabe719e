// The verifier's enrollment checks against a real (simulated) TPM: a
// credential made in software by attest_credential is recovered by the TPM
// only for the AK it names and only untampered, and swtpm's EK
// certificates verify against its local CA and nothing else.
#include <openssl/rand.h>

#include "attest/tpm/public_key.h"
#include "attest/verifier/ek_certificate.h"
#include "attest/verifier/make_credential.h"

#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::AkAlgorithm;
using attestd::EkAlgorithm;
using attestd::Endorsement;
using attestd::KeyBlob;
using attestd::Tpm;
using verifier::Credential;
using verifier::EkCaBundle;
using verifier::MakeCredential;
using verifier::VerifyEkCertificate;

Bytes RandomBytes(std::size_t size) {
  Bytes bytes(size);
  EXPECT_EQ(RAND_bytes(bytes.data(), static_cast<int>(size)), 1);
  return bytes;
}

Bytes NameOf(const KeyBlob& key) {
  auto parsed = tpm::ParsePublic(key.public_area);
  EXPECT_TRUE(parsed.ok());
  if (!parsed.ok()) return {};
  auto name = tpm::ObjectName(parsed->publicArea);
  EXPECT_TRUE(name.ok());
  return name.ok() ? *name : Bytes{};
}

std::string AlgorithmName(const ::testing::TestParamInfo<EkAlgorithm>& info) {
  return info.param == EkAlgorithm::kRsa ? "Rsa" : "Ecc";
}

class MakeCredentialSwtpmTest : public TpmTest, public ::testing::WithParamInterface<EkAlgorithm> {
 protected:
  void SetUp() override {
    TpmTest::SetUp();
    if (HasFatalFailure()) return;
    auto endorsement = tpm().ReadEndorsement(GetParam());
    ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
    endorsement_ = *endorsement;
    ek_public_ = tpm::MarshalPublic(endorsement->public_key);
    auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
    ASSERT_TRUE(ak.ok()) << ak.error().ToString();
    ak_ = *ak;
  }

  Credential Make(ByteView secret, ByteView name) {
    auto credential = MakeCredential(ek_public_, secret, name);
    EXPECT_TRUE(credential.ok()) << credential.error().ToString();
    return credential.ok() ? *credential : Credential{};
  }

  void ExpectRefused(const Credential& credential) {
    auto refused = tpm().ActivateCredential(ak_, endorsement_, credential.credential_blob,
                                            credential.encrypted_secret);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kTpm);
    EXPECT_NE(refused.error().message.find("TPM2_ActivateCredential"), std::string::npos)
        << refused.error().message;
  }

  Endorsement endorsement_;
  Bytes ek_public_;
  KeyBlob ak_;
};

TEST_P(MakeCredentialSwtpmTest, TheTpmRecoversTheSecretForTheAksName) {
  // 32 bytes, as enrollment sends, and the largest the EK's nameAlg allows.
  auto ek = tpm::ParsePublic(ek_public_);
  ASSERT_TRUE(ek.ok());
  if (GetParam() == EkAlgorithm::kEcc) {
    // swtpm's template H-3: P-384 with nameAlg sha384 and AES-256-CFB, so a
    // 48-byte seed and a 256-bit symKey are exercised too.
    EXPECT_EQ(ek->publicArea.nameAlg, TPM2_ALG_SHA384);
    EXPECT_EQ(ek->publicArea.parameters.eccDetail.symmetric.keyBits.aes, 256);
  }
  const std::size_t largest = ek->publicArea.nameAlg == TPM2_ALG_SHA384 ? 48 : 32;
  for (std::size_t size : {std::size_t{32}, largest, std::size_t{1}}) {
    const Bytes secret = RandomBytes(size);
    Credential credential = Make(secret, NameOf(ak_));
    auto recovered = tpm().ActivateCredential(ak_, endorsement_, credential.credential_blob,
                                              credential.encrypted_secret);
    ASSERT_TRUE(recovered.ok()) << recovered.error().ToString();
    EXPECT_EQ(*recovered, secret);
  }
  EXPECT_EQ(TransientHandles(), "");
}

TEST_P(MakeCredentialSwtpmTest, ACredentialForAnotherNameIsRefused) {
  auto other = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  const Bytes secret = RandomBytes(32);
  ExpectRefused(Make(secret, NameOf(*other)));

  Bytes flipped = NameOf(ak_);
  flipped.back() ^= 0x01;
  ExpectRefused(Make(secret, flipped));
  EXPECT_EQ(TransientHandles(), "");
}

TEST_P(MakeCredentialSwtpmTest, ATamperedCredentialIsRefused) {
  const Credential good = Make(RandomBytes(32), NameOf(ak_));
  // TPM2B_ID_OBJECT: size(2) || TPM2B_DIGEST(integrity HMAC) || encIdentity.
  Credential hmac = good;
  hmac.credential_blob[4] ^= 0x80;
  ExpectRefused(hmac);
  Credential identity = good;
  identity.credential_blob.back() ^= 0x01;
  ExpectRefused(identity);
  // A changed seed: an OAEP ciphertext that does not decode (libtpms
  // answers TPM_RC_FAILURE for it) or an ephemeral point off the curve.
  Credential seed = good;
  seed.encrypted_secret[seed.encrypted_secret.size() / 2] ^= 0x01;
  ExpectRefused(seed);
  EXPECT_EQ(TransientHandles(), "");

  // And the TPM still activates the untampered credential.
  auto recovered =
      tpm().ActivateCredential(ak_, endorsement_, good.credential_blob, good.encrypted_secret);
  ASSERT_TRUE(recovered.ok()) << recovered.error().ToString();
  EXPECT_EQ(TransientHandles(), "");
}

INSTANTIATE_TEST_SUITE_P(RsaAndEcc, MakeCredentialSwtpmTest,
                         ::testing::Values(EkAlgorithm::kRsa, EkAlgorithm::kEcc), AlgorithmName);

// tpm2-tools, not attestd, activates: the EK swtpm_setup persisted and an AK
// tpm2_createak made under it.
class MakeCredentialToolsTest : public TpmTest {};

TEST_F(MakeCredentialToolsTest, Tpm2ActivateCredentialRecoversTheSecret) {
  CommandResult ek = Tool({"tpm2_readpublic", "-c", "0x81010001", "-o", File("ek.pub")});
  ASSERT_EQ(ek.exit_code, 0) << ek.err;
  CommandResult ak =
      Tool({"tpm2_createak", "-C", "0x81010001", "-c", File("ak.ctx"), "-G", "ecc", "-g", "sha256",
            "-s", "ecdsa", "-u", File("ak.pub"), "-n", File("ak.name")});
  ASSERT_EQ(ak.exit_code, 0) << ak.err;

  const Bytes secret = RandomBytes(32);
  auto credential =
      MakeCredential(ToBytes(ReadText(File("ek.pub"))), secret, ToBytes(ReadText(File("ak.name"))));
  ASSERT_TRUE(credential.ok()) << credential.error().ToString();
  // tpm2-tools' credential file: magic 0xBADCC0DE and version 1 (both
  // big-endian), then TPM2B_ID_OBJECT || TPM2B_ENCRYPTED_SECRET.
  Bytes file = {0xba, 0xdc, 0xc0, 0xde, 0x00, 0x00, 0x00, 0x01};
  file.insert(file.end(), credential->credential_blob.begin(), credential->credential_blob.end());
  file.insert(file.end(), credential->encrypted_secret.begin(), credential->encrypted_secret.end());
  WriteBytes("credential", file);

  // The EK's policy: PolicySecret(TPM_RH_ENDORSEMENT).
  ASSERT_EQ(
      Tool({"tpm2_startauthsession", "--policy-session", "-S", File("session.ctx")}).exit_code, 0);
  CommandResult policy = Tool({"tpm2_policysecret", "-S", File("session.ctx"), "-c", "e"});
  ASSERT_EQ(policy.exit_code, 0) << policy.err;
  CommandResult activated =
      Tool({"tpm2_activatecredential", "-c", File("ak.ctx"), "-C", "0x81010001", "-i",
            File("credential"), "-o", File("secret"), "-P", "session:" + File("session.ctx")});
  Tool({"tpm2_flushcontext", File("session.ctx")});
  ASSERT_EQ(activated.exit_code, 0) << activated.err;
  EXPECT_EQ(ToBytes(ReadText(File("secret"))), secret);
}

// EK certificates as swtpm_setup's local CA issued them.
class EkCertificateSwtpmTest : public TpmTest {
 protected:
  EkCaBundle LocalCa() {
    WriteText(File("tpm-ca.pem"), ReadText(swtpm().root_certificate_path()) +
                                      ReadText(swtpm().issuer_certificate_path()));
    auto bundle = EkCaBundle::Load(File("tpm-ca.pem"));
    EXPECT_TRUE(bundle.ok()) << bundle.error().ToString();
    return std::move(bundle).value();
  }
  Endorsement Read(EkAlgorithm algorithm) {
    auto endorsement = tpm().ReadEndorsement(algorithm);
    EXPECT_TRUE(endorsement.ok()) << endorsement.error().ToString();
    EXPECT_TRUE(endorsement->certificate_der.has_value());
    return *endorsement;
  }
};

TEST_F(EkCertificateSwtpmTest, RsaAndEccCertificatesVerifyAgainstTheLocalCa) {
  EkCaBundle bundle = LocalCa();
  EXPECT_EQ(bundle.size(), 2u);
  for (EkAlgorithm algorithm : {EkAlgorithm::kRsa, EkAlgorithm::kEcc}) {
    Endorsement endorsement = Read(algorithm);
    auto info = VerifyEkCertificate(*endorsement.certificate_der,
                                    tpm::MarshalPublic(endorsement.public_key), bundle);
    ASSERT_TRUE(info.ok()) << info.error().ToString();
    EXPECT_EQ(info->issuer, "CN=swtpm-localca");
    EXPECT_EQ(info->tpm_model, "swtpm");
    EXPECT_EQ(info->tpm_manufacturer.rfind("id:", 0), 0u) << info->tpm_manufacturer;
    EXPECT_EQ(info->tpm_version.rfind("id:", 0), 0u) << info->tpm_version;
    EXPECT_EQ(info->not_after, "9999-12-31T23:59:59Z");
    auto node_id = tpm::NodeId(endorsement.public_key.publicArea);
    ASSERT_TRUE(node_id.ok()) << node_id.error().ToString();
    EXPECT_EQ(info->node_id, *node_id);
  }
}

// A CRL made by `openssl ca -gencrl` with swtpm's issuer key reads, but is
// refused: swtpm's local CA has keyUsage keyCertSign only, so it may not
// sign CRLs (RFC 5280 §4.2.1.3), and a bundle with such a CRL does not load.
TEST_F(EkCertificateSwtpmTest, ACrlFromSwtpmsLocalCaIsRefusedForLackOfCrlSign) {
  ASSERT_EQ(RunCommand({"mkdir", File("cas")}).exit_code, 0);
  WriteText(File("cas/root.pem"), ReadText(swtpm().root_certificate_path()));
  WriteText(File("cas/issuer.pem"), ReadText(swtpm().issuer_certificate_path()));
  WriteText(File("index.txt"), "");
  WriteText(File("ca.conf"), "[ca]\ndefault_ca = local\n[local]\ndatabase = " + File("index.txt") +
                                 "\ndefault_md = sha256\ndefault_crl_days = 30\n");
  const std::string signing_key =
      swtpm().issuer_certificate_path().substr(0, swtpm().issuer_certificate_path().rfind('/')) +
      "/signkey.pem";
  CommandResult made = RunCommand(
      {"openssl", "ca", "-gencrl", "-batch", "-config", File("ca.conf"), "-keyfile", signing_key,
       "-cert", swtpm().issuer_certificate_path(), "-out", File("cas/issuer.crl")});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto bundle = EkCaBundle::Load(File("cas"));
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bundle.error().message.find(File("cas/issuer.crl") +
                                        ": CRL of CN=swtpm-localca: its issuer's key usage does "
                                        "not allow signing CRLs (cRLSign)"),
            std::string::npos)
      << bundle.error().message;
}

TEST_F(EkCertificateSwtpmTest, ADirectoryBundleVerifiesToo) {
  ASSERT_EQ(RunCommand({"mkdir", File("cas")}).exit_code, 0);
  WriteText(File("cas/root.pem"), ReadText(swtpm().root_certificate_path()));
  WriteText(File("cas/issuer.pem"), ReadText(swtpm().issuer_certificate_path()));
  auto bundle = EkCaBundle::Load(File("cas"));
  ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
  Endorsement endorsement = Read(EkAlgorithm::kEcc);
  auto info = VerifyEkCertificate(*endorsement.certificate_der,
                                  tpm::MarshalPublic(endorsement.public_key), *bundle);
  EXPECT_TRUE(info.ok()) << info.error().ToString();
}

TEST_F(EkCertificateSwtpmTest, AnUnrelatedCaOrAMissingRootIsRefused) {
  CommandResult made =
      RunCommand({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", File("other.key"), "-out", File("other.pem"), "-subj",
                  "/CN=swtpm-localca", "-days", "1"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  Endorsement endorsement = Read(EkAlgorithm::kRsa);
  const Bytes ek_public = tpm::MarshalPublic(endorsement.public_key);
  for (const std::string& path :
       {File("other.pem"), swtpm().issuer_certificate_path(), swtpm().root_certificate_path()}) {
    auto bundle = EkCaBundle::Load(path);
    ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
    auto refused = VerifyEkCertificate(*endorsement.certificate_der, ek_public, *bundle);
    ASSERT_FALSE(refused.ok()) << path;
    EXPECT_EQ(refused.error().code, ErrorCode::kVerificationFailed);
    EXPECT_NE(refused.error().message.find("does not chain to the configured TPM CA bundle (" +
                                           path + ")"),
              std::string::npos)
        << refused.error().message;
  }
}

TEST_F(EkCertificateSwtpmTest, ACertificateForAnotherEkIsRefused) {
  EkCaBundle bundle = LocalCa();
  Endorsement rsa = Read(EkAlgorithm::kRsa);
  Endorsement ecc = Read(EkAlgorithm::kEcc);
  auto refused =
      VerifyEkCertificate(*rsa.certificate_der, tpm::MarshalPublic(ecc.public_key), bundle);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kVerificationFailed);
  EXPECT_NE(refused.error().message.find("another key"), std::string::npos)
      << refused.error().message;

  // Another TPM's RSA EK: same type and size, other modulus.
  auto other = SwtpmSimulator::Start();
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  auto other_tpm = Tpm::Open((*other)->tcti());
  ASSERT_TRUE(other_tpm.ok()) << other_tpm.error().ToString();
  auto foreign = (*other_tpm)->ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(foreign.ok()) << foreign.error().ToString();
  refused =
      VerifyEkCertificate(*rsa.certificate_der, tpm::MarshalPublic(foreign->public_key), bundle);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kVerificationFailed);
}

}  // namespace
}  // namespace attest::test
