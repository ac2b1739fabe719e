// attestd's TPM identity against a real (simulated) TPM: the EK and its
// certificate, the AK across processes and reboots, credential activation
// for exactly the AK's name, and TPM-resident keys that OpenSSL can use.
#include <openssl/x509.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"

#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::AkAlgorithm;
using attestd::EkAlgorithm;
using attestd::Endorsement;
using attestd::KeyBlob;
using attestd::Tpm;
using attestd::TssPrivateKeyPem;

// The DER certificate's key equals the EK: checked here with OpenSSL
// directly, not through the code under test.
void ExpectCertificateCertifies(const Endorsement& endorsement) {
  ASSERT_TRUE(endorsement.certificate_der.has_value());
  const unsigned char* cursor = endorsement.certificate_der->data();
  X509Ptr certificate(
      d2i_X509(nullptr, &cursor, static_cast<long>(endorsement.certificate_der->size())));
  ASSERT_TRUE(certificate);
  EXPECT_EQ(cursor, endorsement.certificate_der->data() + endorsement.certificate_der->size())
      << "NV padding must be trimmed";
  auto ek = tpm::PublicKeyFromTpm(endorsement.public_key.publicArea);
  ASSERT_TRUE(ek.ok()) << ek.error().ToString();
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(certificate.get()), ek->get()), 1);
}

std::string NodeIdOf(const TPMT_PUBLIC& endorsement_key) {
  auto id = tpm::NodeId(endorsement_key);
  EXPECT_TRUE(id.ok()) << id.error().ToString();
  return id.ok() ? *id : std::string();
}

class EndorsementTest : public TpmTest {};

TEST_F(EndorsementTest, RsaEkMatchesItsCertificate) {
  auto endorsement = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  EXPECT_EQ(endorsement->profile.certificate_index, 0x01c00002u);
  EXPECT_EQ(endorsement->public_key.publicArea.type, TPM2_ALG_RSA);
  ExpectCertificateCertifies(*endorsement);

  // The same key swtpm_setup persisted at 0x81010001 (tpm2_readpublic's view).
  CommandResult read = Tool({"tpm2_readpublic", "-c", "0x81010001", "-o", File("ek.pub")});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  auto persisted = tpm::ParsePublic(AsBytes(ReadText(File("ek.pub"))));
  ASSERT_TRUE(persisted.ok()) << persisted.error().ToString();
  EXPECT_EQ(NodeIdOf(persisted->publicArea), NodeIdOf(endorsement->public_key.publicArea));
}

TEST_F(EndorsementTest, EccEkMatchesItsCertificateFromTheHighRange) {
  // swtpm 0.7 certifies an ECC P-384 EK (EK profile template H-3) only.
  auto endorsement = tpm().ReadEndorsement(EkAlgorithm::kEcc);
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  EXPECT_EQ(endorsement->profile.certificate_index, 0x01c00016u);
  EXPECT_TRUE(endorsement->profile.high_range);
  EXPECT_EQ(endorsement->public_key.publicArea.parameters.eccDetail.curveID, TPM2_ECC_NIST_P384);
  ExpectCertificateCertifies(*endorsement);
}

TEST_F(EndorsementTest, NodeIdIsStableAcrossConnections) {
  auto first = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto second = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(NodeIdOf(first->public_key.publicArea), NodeIdOf(second->public_key.publicArea));
  EXPECT_EQ(NodeIdOf(first->public_key.publicArea).size(), 64u);
}

// DESIGN §3: anyone reproduces a node's id from its EK certificate with
// openssl. The command line below is the one README and FORMAT.md give,
// run by a shell over the certificate this TPM holds.
class NodeIdFromCertificateTest : public TpmTest,
                                  public ::testing::WithParamInterface<EkAlgorithm> {};

TEST_P(NodeIdFromCertificateTest, OpensslPrintsTheNodeIdFromTheEkCertificate) {
  auto endorsement = tpm().ReadEndorsement(GetParam());
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  ASSERT_TRUE(endorsement->certificate_der.has_value());
  WriteBytes("ek.der", *endorsement->certificate_der);
  CommandResult pem = RunCommand(
      {"openssl", "x509", "-inform", "DER", "-in", File("ek.der"), "-out", File("ek.pem")});
  ASSERT_EQ(pem.exit_code, 0) << pem.err;
  CommandResult sum = RunCommand(
      {"bash", "-c",
       "set -o pipefail; cd '" + File("") +
           "' && openssl x509 -in ek.pem -pubkey -noout | openssl pkey -pubin -outform DER | "
           "sha256sum"});
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  ASSERT_GE(sum.out.size(), 64u) << sum.out;
  EXPECT_EQ(NodeIdOf(endorsement->public_key.publicArea), sum.out.substr(0, 64));
}

INSTANTIATE_TEST_SUITE_P(RsaAndEcc, NodeIdFromCertificateTest,
                         ::testing::Values(EkAlgorithm::kRsa, EkAlgorithm::kEcc),
                         [](const auto& test_param) {
                           return test_param.param == EkAlgorithm::kRsa ? "Rsa" : "Ecc";
                         });

TEST_F(EndorsementTest, ACertificateForAnotherKeyIsRefused) {
  // Overwrite the RSA EK certificate (platform-written, and platform auth
  // is empty after swtpm's startup) with the ECC EK's certificate, padded.
  CommandResult read = Tool({"tpm2_nvread", "0x01c00016", "-C", "o", "-o", File("ecc.der")});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  std::string wrong = ReadText(File("ecc.der"));
  CommandResult size = Tool({"tpm2_nvreadpublic", "0x01c00002"});
  ASSERT_EQ(size.exit_code, 0) << size.err;
  std::size_t at = size.out.find("size: ");
  ASSERT_NE(at, std::string::npos) << size.out;
  std::size_t nv_size = std::stoul(size.out.substr(at + 6));
  ASSERT_LE(wrong.size(), nv_size);
  wrong.resize(nv_size, '\0');
  WriteText(File("wrong.der"), wrong);
  CommandResult write = Tool({"tpm2_nvwrite", "0x01c00002", "-C", "p", "-i", File("wrong.der")});
  ASSERT_EQ(write.exit_code, 0) << write.err;

  auto endorsement = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_FALSE(endorsement.ok());
  EXPECT_EQ(endorsement.error().code, ErrorCode::kVerificationFailed);
  EXPECT_NE(endorsement.error().message.find("0x01c00002"), std::string::npos)
      << endorsement.error().message;
}

class NoEkCertificateTest : public TpmTest {
 protected:
  SwtpmOptions Options() const override { return {.create_ek_certificates = false}; }
};

TEST_F(NoEkCertificateTest, EkWithoutCertificateUsesTheLowRangeTemplate) {
  auto endorsement = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  EXPECT_FALSE(endorsement->certificate_der.has_value());
  EXPECT_EQ(endorsement->profile.name, "L-1 RSA 2048");
  // The same key tpm2_createek derives from the default template.
  CommandResult created =
      Tool({"tpm2_createek", "-c", File("ek.ctx"), "-G", "rsa", "-u", File("ek.pub")});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto tools_ek = tpm::ParsePublic(AsBytes(ReadText(File("ek.pub"))));
  ASSERT_TRUE(tools_ek.ok()) << tools_ek.error().ToString();
  EXPECT_EQ(NodeIdOf(tools_ek->publicArea), NodeIdOf(endorsement->public_key.publicArea));
}

class AttestationKeyTest : public TpmTest {};

TEST_F(AttestationKeyTest, AkHasTheAttributesTheVerifierRequires) {
  for (AkAlgorithm algorithm : {AkAlgorithm::kEccP256, AkAlgorithm::kRsa2048}) {
    auto ak = tpm().CreateAttestationKey(algorithm);
    ASSERT_TRUE(ak.ok()) << ak.error().ToString();
    auto parsed = tpm::ParsePublic(ak->public_area);
    ASSERT_TRUE(parsed.ok());
    TPMA_OBJECT attributes = parsed->publicArea.objectAttributes;
    // noDA: the auth value is empty, and lockout must not stop quoting.
    for (TPMA_OBJECT required :
         {TPMA_OBJECT_FIXEDTPM, TPMA_OBJECT_FIXEDPARENT, TPMA_OBJECT_SENSITIVEDATAORIGIN,
          TPMA_OBJECT_RESTRICTED, TPMA_OBJECT_SIGN_ENCRYPT, TPMA_OBJECT_NODA}) {
      EXPECT_NE(attributes & required, 0u) << std::hex << required;
    }
    EXPECT_EQ(attributes & TPMA_OBJECT_DECRYPT, 0u);
    EXPECT_EQ(parsed->publicArea.type,
              algorithm == AkAlgorithm::kEccP256 ? TPM2_ALG_ECC : TPM2_ALG_RSA);
  }
  EXPECT_EQ(TransientHandles(), "");
}

// The AK blobs written by one process are used by another, and survive a
// reboot of the TPM: that is what a daemon restart and a host reboot do.
TEST_F(AttestationKeyTest, AkSurvivesANewProcessAndAReboot) {
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(ak.ok()) << ak.error().ToString();
  WriteBytes("ak.pub", ak->public_area);
  WriteBytes("ak.priv", ak->private_area);
  WriteText(File("ak.pem"), PublicKeyPem(ak->public_area));
  ASSERT_TRUE(swtpm().Restart().ok());

  std::string tcti = swtpm().tcti();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A fresh process: only the files on disk carry the key over.
    auto tpm = Tpm::Open(tcti);
    KeyBlob loaded{ToBytes(ReadText(File("ak.pub"))), ToBytes(ReadText(File("ak.priv")))};
    const Bytes nonce(32, 0x5a);
    auto selection = tpm::ParsePcrSelection("sha256:0,1");
    if (!tpm.ok() || !selection.ok()) ::_exit(2);
    auto quote = (*tpm)->MakeQuote(loaded, nonce, *selection);
    if (!quote.ok()) ::_exit(3);
    WriteText(File("quote.msg"), std::string(AsText(quote->attest)));
    WriteText(File("quote.sig"), std::string(AsText(quote->signature)));
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  CommandResult check =
      RunCommand({"tpm2_checkquote", "-u", File("ak.pem"), "-m", File("quote.msg"), "-s",
                  File("quote.sig"), "-q", HexEncode(Bytes(32, 0x5a)), "-g", "sha256"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

TEST_F(AttestationKeyTest, AKeyBlobFromAnotherTpmDoesNotLoad) {
  auto other = SwtpmSimulator::Start();
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  auto other_tpm = Tpm::Open((*other)->tcti());
  ASSERT_TRUE(other_tpm.ok()) << other_tpm.error().ToString();
  auto foreign = (*other_tpm)->CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(foreign.ok()) << foreign.error().ToString();
  auto selection = tpm::ParsePcrSelection("sha256:0");
  ASSERT_TRUE(selection.ok());
  auto quote = tpm().MakeQuote(*foreign, Bytes(32, 1), *selection);
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error().code, ErrorCode::kTpm);
  EXPECT_NE(quote.error().message.find("TPM2_Load"), std::string::npos) << quote.error().message;
  EXPECT_EQ(TransientHandles(), "");
}

// tpm2_makecredential -T none makes the credential in software, as the
// verifier will; only attestd's own AK name on this TPM's EK recovers it.
class ActivateCredentialTest : public TpmTest, public ::testing::WithParamInterface<EkAlgorithm> {};

TEST_P(ActivateCredentialTest, RecoversTheSecretOnlyForTheAksName) {
  auto endorsement = tpm().ReadEndorsement(GetParam());
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(ak.ok()) << ak.error().ToString();
  auto ak_public = tpm::ParsePublic(ak->public_area);
  ASSERT_TRUE(ak_public.ok());
  auto ak_name = tpm::ObjectName(ak_public->publicArea);
  ASSERT_TRUE(ak_name.ok());
  WriteBytes("ek.pub", tpm::MarshalPublic(endorsement->public_key));
  WriteText(File("secret"), "node enrollment secret 0123456789");

  auto make = [&](const std::string& name_hex) -> std::pair<Bytes, Bytes> {
    CommandResult made = RunCommand({"tpm2_makecredential", "-T", "none", "-u", File("ek.pub"),
                                     "-s", File("secret"), "-n", name_hex, "-o", File("cred")});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    // tpm2-tools' file: magic, version, then TPM2B_ID_OBJECT and
    // TPM2B_ENCRYPTED_SECRET in wire form.
    Bytes file = ToBytes(ReadText(File("cred")));
    if (file.size() < 10) return {};
    std::size_t id_size = 2 + (static_cast<std::size_t>(file[8]) << 8 | file[9]);
    return {Bytes(file.begin() + 8, file.begin() + 8 + static_cast<long>(id_size)),
            Bytes(file.begin() + 8 + static_cast<long>(id_size), file.end())};
  };

  auto [blob, secret] = make(HexEncode(*ak_name));
  auto recovered = tpm().ActivateCredential(*ak, *endorsement, blob, secret);
  ASSERT_TRUE(recovered.ok()) << recovered.error().ToString();
  EXPECT_EQ(std::string(AsText(*recovered)), "node enrollment secret 0123456789");
  EXPECT_EQ(TransientHandles(), "");
  EXPECT_EQ(LoadedSessions(), "");

  Bytes other_name = *ak_name;
  other_name.back() ^= 1;
  auto [other_blob, other_secret] = make(HexEncode(other_name));
  auto refused = tpm().ActivateCredential(*ak, *endorsement, other_blob, other_secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kTpm);
  EXPECT_NE(refused.error().message.find("TPM2_ActivateCredential"), std::string::npos);
  EXPECT_EQ(TransientHandles(), "");

  // Garbage is refused before it reaches the TPM.
  auto garbage = tpm().ActivateCredential(*ak, *endorsement, Bytes{0x00, 0x05, 1}, secret);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, ErrorCode::kCorrupt);
}

INSTANTIATE_TEST_SUITE_P(RsaAndEcc, ActivateCredentialTest,
                         ::testing::Values(EkAlgorithm::kRsa, EkAlgorithm::kEcc),
                         [](const auto& test_param) {
                           return test_param.param == EkAlgorithm::kRsa ? "Rsa" : "Ecc";
                         });

class SigningKeyTest : public TpmTest {};

TEST_F(SigningKeyTest, TssPemKeySignsThroughTheOpensslProvider) {
  auto key = tpm().CreateSigningKey();
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  auto pem = TssPrivateKeyPem(*key);
  ASSERT_TRUE(pem.ok()) << pem.error().ToString();
  EXPECT_EQ(pem->rfind("-----BEGIN TSS2 PRIVATE KEY-----\n", 0), 0u);
  ASSERT_TRUE(CreateSecretFile(File("key.pem"), AsBytes(*pem)).ok());
  WriteText(File("key.pub.pem"), PublicKeyPem(key->public_area));
  WriteText(File("data"), "certificate signing request bytes");

  CommandResult sign =
      RunCommand({"openssl", "pkeyutl", "-provider", "tpm2", "-provider", "default", "-sign",
                  "-inkey", File("key.pem"), "-rawin", "-digest", "sha256", "-in", File("data"),
                  "-out", File("data.sig")},
                 WithEnvironment({{"TPM2OPENSSL_TCTI", swtpm().tcti()}}));
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  CommandResult verify = RunCommand({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                     File("key.pub.pem"), "-rawin", "-digest", "sha256", "-in",
                                     File("data"), "-sigfile", File("data.sig")});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  WriteText(File("data"), "certificate signing request bytez");
  verify = RunCommand({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", File("key.pub.pem"),
                       "-rawin", "-digest", "sha256", "-in", File("data"), "-sigfile",
                       File("data.sig")});
  EXPECT_NE(verify.exit_code, 0);
}

TEST_F(SigningKeyTest, CertifyNamesTheKeyAndIsSignedByTheAk) {
  auto key = tpm().CreateSigningKey();
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(key.ok() && ak.ok());
  const Bytes qualifying(32, 0xc3);
  auto certification = tpm().Certify(*key, *ak, qualifying);
  ASSERT_TRUE(certification.ok()) << certification.error().ToString();
  EXPECT_EQ(TransientHandles(), "");

  auto attest = tpm::Unmarshal<TPMS_ATTEST>(certification->attest, Tss2_MU_TPMS_ATTEST_Unmarshal,
                                            "TPMS_ATTEST");
  ASSERT_TRUE(attest.ok()) << attest.error().ToString();
  EXPECT_EQ(attest->magic, TPM2_GENERATED_VALUE);
  EXPECT_EQ(attest->type, TPM2_ST_ATTEST_CERTIFY);
  EXPECT_EQ(Bytes(attest->extraData.buffer, attest->extraData.buffer + attest->extraData.size),
            qualifying);
  auto key_public = tpm::ParsePublic(key->public_area);
  auto key_name = tpm::ObjectName(key_public->publicArea);
  ASSERT_TRUE(key_name.ok());
  const TPM2B_NAME& certified = attest->attested.certify.name;
  EXPECT_EQ(Bytes(certified.name, certified.name + certified.size), *key_name);

  // The AK's signature over the attest bytes, checked by tpm2_checkquote's
  // signature path (it checks signature and qualifying data only without -f).
  WriteText(File("ak.pem"), PublicKeyPem(ak->public_area));
  WriteBytes("certify.msg", certification->attest);
  WriteBytes("certify.sig", certification->signature);
  CommandResult check =
      RunCommand({"tpm2_checkquote", "-u", File("ak.pem"), "-m", File("certify.msg"), "-s",
                  File("certify.sig"), "-q", HexEncode(qualifying), "-g", "sha256"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  Bytes tampered = certification->attest;
  tampered[tampered.size() / 2] ^= 1;
  WriteBytes("certify.msg", tampered);
  check = RunCommand({"tpm2_checkquote", "-u", File("ak.pem"), "-m", File("certify.msg"), "-s",
                      File("certify.sig"), "-q", HexEncode(qualifying), "-g", "sha256"});
  EXPECT_NE(check.exit_code, 0);
}

}  // namespace
}  // namespace attest::test
