// CheckKeyCertification against TPM2_Certify proofs made in software (real
// TPMS_ATTEST bytes through tss2-mu, signed by a software AK): the one
// proof it accepts and each way a proof can be wrong.
#include "attest/verifier/key_certification.h"

#include <gtest/gtest.h>

#include "attest/tpm/public_key.h"

#include "ca_test_support.h"
#include "evidence_factory.h"

namespace attest::verifier::test {
namespace {

class KeyCertificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto csr_key = CsrPublicKey(MakeCsr(key_.key.get()));
    ASSERT_TRUE(csr_key.ok()) << csr_key.error().ToString();
    csr_key_ = *csr_key;
  }

  Status Check(const KeyCertification& proof) const {
    return CheckKeyCertification(proof, ak_, nonce_, csr_key_);
  }

  // The refusal's code, and its message contains `what`.
  void ExpectRefused(const KeyCertification& proof, ErrorCode code, const std::string& what) {
    Status status = Check(proof);
    ASSERT_FALSE(status.ok()) << what;
    EXPECT_EQ(status.error().code, code) << status.error().message;
    EXPECT_NE(status.error().message.find(what), std::string::npos) << status.error().message;
  }

  EvidenceFactory factory_;
  AttestationKey ak_ = factory_.LoadedKey();
  SoftwareSigningKey key_ = MakeSoftwareSigningKey();
  Bytes nonce_ = Bytes(32, 0x5a);
  Bytes csr_key_;
};

TEST_F(KeyCertificationTest, AcceptsTheAksCertificationOfTheCsrsKey) {
  KeyCertification proof = factory_.Certify(key_.public_area, nonce_);
  Status status = Check(proof);
  EXPECT_TRUE(status.ok()) << status.error().ToString();
  // The same with the AK as a bare PEM key.
  auto pem_ak = ParseAttestationKey(AsBytes(factory_.PublicPem()), {.allow_bare_public_key = true});
  ASSERT_TRUE(pem_ak.ok());
  EXPECT_TRUE(CheckKeyCertification(proof, *pem_ak, nonce_, csr_key_).ok());
}

TEST_F(KeyCertificationTest, RefusesAProofForAnotherNonce) {
  Bytes old_nonce = nonce_;
  old_nonce[31] ^= 1;
  ExpectRefused(factory_.Certify(key_.public_area, old_nonce), ErrorCode::kVerificationFailed,
                "made for nonce");
  Status status =
      CheckKeyCertification(factory_.Certify(key_.public_area, nonce_), ak_, {}, csr_key_);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(KeyCertificationTest, RefusesACertificationOfAnotherObject) {
  // The attest names another key than `public`.
  SoftwareSigningKey other = MakeSoftwareSigningKey();
  KeyCertification proof = factory_.Certify(other.public_area, nonce_);
  proof.key_public = key_.MarshaledPublic();
  ExpectRefused(proof, ErrorCode::kVerificationFailed, "certifies the object named");
  // A name that is no object's.
  proof = factory_.Certify(key_.public_area, nonce_);
  Bytes name = tpm::ObjectName(key_.public_area).value();
  name.back() ^= 1;
  proof.attest = factory_.MakeCertifyAttest(name, nonce_);
  proof.signature = factory_.Sign(proof.attest);
  ExpectRefused(proof, ErrorCode::kVerificationFailed, "certifies the object named");
}

TEST_F(KeyCertificationTest, RefusesKeysWithTheWrongAttributes) {
  struct Case {
    TPMA_OBJECT set;
    TPMA_OBJECT clear;
    const char* what;
  };
  for (const Case& c : {Case{TPMA_OBJECT_RESTRICTED, 0, "restricted is set"},
                        Case{0, TPMA_OBJECT_FIXEDTPM, "fixedTPM is clear"},
                        Case{0, TPMA_OBJECT_FIXEDPARENT, "fixedParent is clear"},
                        Case{0, TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin is clear"},
                        Case{0, TPMA_OBJECT_SIGN_ENCRYPT, "sign is clear"},
                        Case{TPMA_OBJECT_DECRYPT, 0, "decrypt is set"}}) {
    TPMT_PUBLIC area = key_.public_area;
    area.objectAttributes = (area.objectAttributes | c.set) & ~c.clear;
    ExpectRefused(factory_.Certify(area, nonce_), ErrorCode::kVerificationFailed, c.what);
  }
}

TEST_F(KeyCertificationTest, RefusesAKeyThatIsNotTheCsrs) {
  SoftwareSigningKey other = MakeSoftwareSigningKey();
  ExpectRefused(factory_.Certify(other.public_area, nonce_), ErrorCode::kVerificationFailed,
                "not the CSR's key");
}

TEST_F(KeyCertificationTest, RefusesASignatureByAnotherKey) {
  EvidenceFactory other_ak;
  KeyCertification proof = factory_.Certify(key_.public_area, nonce_);
  proof.signature = other_ak.Sign(proof.attest);
  ExpectRefused(proof, ErrorCode::kVerificationFailed, "not signed by this node's AK");
  // The AK's signature, but over other bytes.
  proof = factory_.Certify(key_.public_area, nonce_);
  proof.attest[proof.attest.size() - 40] ^= 1;
  ExpectRefused(proof, ErrorCode::kVerificationFailed, "not signed by this node's AK");
}

TEST_F(KeyCertificationTest, RefusesAQuoteInsteadOfACertification) {
  KeyCertification proof = factory_.Certify(key_.public_area, nonce_);
  const auto selection = tpm::ParsePcrSelection("sha256:0").value();
  tpm::PcrValues values;
  values[TPM2_ALG_SHA256][0] = Bytes(32, 0);
  proof.attest = factory_.MakeAttest(selection, values, nonce_, SafeClock());
  proof.signature = factory_.Sign(proof.attest);
  ExpectRefused(proof, ErrorCode::kCorrupt, "not a key certification");
}

TEST_F(KeyCertificationTest, RefusesTruncatedOrExtendedBytes) {
  const KeyCertification good = factory_.Certify(key_.public_area, nonce_);
  for (Bytes KeyCertification::*field :
       {&KeyCertification::key_public, &KeyCertification::attest, &KeyCertification::signature}) {
    KeyCertification truncated = good;
    (truncated.*field).pop_back();
    ExpectRefused(truncated, ErrorCode::kCorrupt, "key certification: ");
    KeyCertification extended = good;
    (extended.*field).push_back(0);
    ExpectRefused(extended, ErrorCode::kCorrupt, "key certification: ");
    KeyCertification empty = good;
    (empty.*field).clear();
    ExpectRefused(empty, ErrorCode::kCorrupt, "key certification: ");
  }
  // Not the TPM's: the magic.
  KeyCertification forged = good;
  forged.attest[0] ^= 1;
  forged.signature = factory_.Sign(forged.attest);
  ExpectRefused(forged, ErrorCode::kCorrupt, "TPM_GENERATED_VALUE");
}

TEST_F(KeyCertificationTest, CsrPublicKeyIsTheSubjectPublicKeyInfo) {
  auto der = CsrPublicKey(MakeCsr(key_.key.get()));
  ASSERT_TRUE(der.ok()) << der.error().ToString();
  unsigned char* expected = nullptr;
  const int size = i2d_PUBKEY(key_.key.get(), &expected);
  ASSERT_GT(size, 0);
  EXPECT_EQ(*der, Bytes(expected, expected + size));
  OPENSSL_free(expected);
  auto broken = CsrPublicKey(
      "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, ErrorCode::kInvalidArgument);
  // A CSR key that is not DER at all.
  Status status = CheckKeyCertification(factory_.Certify(key_.public_area, nonce_), ak_, nonce_,
                                        Bytes{0x30, 0x00});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace attest::verifier::test
