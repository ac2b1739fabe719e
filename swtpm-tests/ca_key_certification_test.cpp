// The CA's TPM2_Certify check against a real TPM: attestd's signing key,
// certified by its AK with the challenge as qualifying data, and a CSR the
// tpm2 OpenSSL provider signs with that key inside swtpm. The verifier
// accepts exactly that proof and issues a certificate for the key.
#include <string>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/certificate_authority.h"
#include "attest/verifier/key_certification.h"

#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::AkAlgorithm;
using attestd::TssPrivateKeyPem;
using verifier::CheckKeyCertification;
using verifier::CsrPublicKey;
using verifier::KeyCertification;

class CaKeyCertificationTest : public TpmTest {
 protected:
  // `openssl req` with the TPM key, through the tpm2 provider on this swtpm.
  std::string TpmCsr(const std::string& key_pem_file) {
    CommandResult request =
        RunCommand({"openssl", "req", "-new", "-provider", "tpm2", "-provider", "default", "-key",
                    File(key_pem_file), "-subj", "/CN=node", "-sha256", "-out", File("node.csr")},
                   WithEnvironment({{"TPM2OPENSSL_TCTI", swtpm().tcti()}}));
    EXPECT_EQ(request.exit_code, 0) << request.err;
    return ReadText(File("node.csr"));
  }
};

TEST_F(CaKeyCertificationTest, CertifyOfTheCsrsTpmKeyIsAcceptedAndNothingElse) {
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  auto key = tpm().CreateSigningKey();
  ASSERT_TRUE(ak.ok() && key.ok());
  auto pem = TssPrivateKeyPem(*key);
  ASSERT_TRUE(pem.ok()) << pem.error().ToString();
  ASSERT_TRUE(CreateSecretFile(File("key.pem"), AsBytes(*pem)).ok());
  const std::string csr = TpmCsr("key.pem");
  ASSERT_FALSE(HasFailure());
  auto csr_key = CsrPublicKey(csr);
  ASSERT_TRUE(csr_key.ok()) << csr_key.error().ToString();

  const Bytes nonce(32, 0x6e);
  auto certification = tpm().Certify(*key, *ak, nonce);
  ASSERT_TRUE(certification.ok()) << certification.error().ToString();
  EXPECT_EQ(TransientHandles(), "");
  const KeyCertification proof{key->public_area, certification->attest, certification->signature};
  auto ak_key = verifier::ParseAttestationKey(ak->public_area);
  ASSERT_TRUE(ak_key.ok()) << ak_key.error().ToString();

  Status accepted = CheckKeyCertification(proof, *ak_key, nonce, *csr_key);
  EXPECT_TRUE(accepted.ok()) << accepted.error().ToString();

  // Replayed for the next challenge.
  Bytes next_nonce = nonce;
  next_nonce[0] ^= 1;
  Status replayed = CheckKeyCertification(proof, *ak_key, next_nonce, *csr_key);
  ASSERT_FALSE(replayed.ok());
  EXPECT_EQ(replayed.error().code, ErrorCode::kVerificationFailed);

  // Another AK of the same TPM did not sign it.
  auto other_ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(other_ak.ok());
  auto other_ak_key = verifier::ParseAttestationKey(other_ak->public_area);
  ASSERT_TRUE(other_ak_key.ok());
  Status other = CheckKeyCertification(proof, *other_ak_key, nonce, *csr_key);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("not signed by this node's AK"), std::string::npos);

  // The proof is for the TPM key, not for a file key in another CSR.
  CommandResult file_csr = RunCommand(
      {"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", File("file.key"), "-subj", "/CN=node", "-out", File("file.csr")});
  ASSERT_EQ(file_csr.exit_code, 0) << file_csr.err;
  auto file_key = CsrPublicKey(ReadText(File("file.csr")));
  ASSERT_TRUE(file_key.ok());
  Status substituted = CheckKeyCertification(proof, *ak_key, nonce, *file_key);
  ASSERT_FALSE(substituted.ok());
  EXPECT_NE(substituted.error().message.find("not the CSR's key"), std::string::npos);

  // The AK certifying itself (Certify of the AK): restricted, refused.
  auto self = tpm().Certify(*ak, *ak, nonce);
  ASSERT_TRUE(self.ok()) << self.error().ToString();
  Status restricted = CheckKeyCertification({ak->public_area, self->attest, self->signature},
                                            *ak_key, nonce, *csr_key);
  ASSERT_FALSE(restricted.ok());
  EXPECT_NE(restricted.error().message.find("restricted is set"), std::string::npos)
      << restricted.error().message;

  // The certificate for the TPM key verifies under the CA.
  const TimePoint now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(verifier::CreateSelfSignedCa(
                  {File("ca.key"), File("ca.pem"), "swtpm test CA", std::chrono::hours(1)}, now)
                  .ok());
  auto ca = verifier::CertificateAuthority::Load(File("ca.pem"), File("ca.key"));
  ASSERT_TRUE(ca.ok()) << ca.error().ToString();
  auto issued = ca->IssueNodeCertificate(
      {csr, std::string(64, 'c'), "node.example", "example.org", std::chrono::seconds(600)}, now);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  EXPECT_EQ(issued->public_key_der, *csr_key);
  WriteText(File("node.pem"), issued->certificate_pem);
  CommandResult verify =
      RunCommand({"openssl", "verify", "-CAfile", File("ca.pem"), File("node.pem")});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace attest::test
