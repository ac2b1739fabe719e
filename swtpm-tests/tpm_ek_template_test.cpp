// EK templates (issue 10, item 17): the high-range templates H-1 and H-2
// derive the key their certificates are for (unique left empty, as the EK
// Credential Profile says), and an EK template or nonce in NV is honoured
// only when the platform made the index and the template is an EK's.
// tpm2_createprimary, given the profile's parameters by hand, is the
// independent referee for what the EK must be.
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/encoding.h"
#include "attest/openssl.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"

#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::AkAlgorithm;
using attestd::EkAlgorithm;
using attestd::Endorsement;

constexpr const char* kPolicyASha256 =
    "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa";
constexpr const char* kPolicyBSha256 =
    "ca3d0a99a2b93906f7a3342414efcfb3a385d44cd1fd459089d19b5071c0b7a0";
constexpr const char* kLowRangeAttributes =
    "fixedtpm|fixedparent|sensitivedataorigin|adminwithpolicy|restricted|decrypt";
constexpr const char* kHighRangeAttributes =
    "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|adminwithpolicy|restricted|decrypt";

class EkTemplateTest : public TpmTest {
 protected:
  // tpm2_createprimary in the endorsement hierarchy; writes `name`.pem (the
  // public key) and `name`.tmpl (the TPMT_PUBLIC it sent, which the test
  // checks so the referee's template is known, not assumed). `unique` is
  // tpm2-tools' -u file: a TPMU_PUBLIC_ID with a little-endian size.
  void CreateReference(const std::string& name, const std::string& algorithm,
                       const std::string& attributes, const char* policy_hex,
                       const Bytes& unique = {}) {
    WriteBytes(name + ".policy", *HexDecode(policy_hex));
    std::vector<std::string> argv = {"tpm2_createprimary",
                                     "-C",
                                     "e",
                                     "-G",
                                     algorithm,
                                     "-g",
                                     "sha256",
                                     "-a",
                                     attributes,
                                     "-L",
                                     File(name + ".policy"),
                                     "-c",
                                     File(name + ".ctx"),
                                     "--template-data",
                                     File(name + ".tmpl"),
                                     "-f",
                                     "pem",
                                     "-o",
                                     File(name + ".pem")};
    if (!unique.empty()) {
      WriteBytes(name + ".unique", unique);
      argv.insert(argv.end(), {"-u", File(name + ".unique")});
    }
    CommandResult created = Tool(argv);
    ASSERT_EQ(created.exit_code, 0) << created.err;
    Tool({"tpm2_flushcontext", "-t"});
  }

  TPMT_PUBLIC Template(const std::string& name) {
    auto area = tpm::Unmarshal<TPMT_PUBLIC>(ToBytes(ReadText(File(name + ".tmpl"))),
                                            Tss2_MU_TPMT_PUBLIC_Unmarshal, name + ".tmpl");
    EXPECT_TRUE(area.ok()) << area.error().ToString();
    return area.ok() ? *area : TPMT_PUBLIC{};
  }

  // Whether the EK is the key in `name`.pem.
  bool IsReference(const TPM2B_PUBLIC& ek, const std::string& name) {
    BioPtr bio(BIO_new_file(File(name + ".pem").c_str(), "r"));
    EvpPkeyPtr reference(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    EXPECT_TRUE(reference) << name;
    auto key = tpm::PublicKeyFromTpm(ek.publicArea);
    EXPECT_TRUE(key.ok());
    return reference && key.ok() && EVP_PKEY_eq(reference.get(), key->get()) == 1;
  }

  // A DER certificate for the key in `name`.pem, from a throwaway CA:
  // attestd checks only that the certificate's key is the EK (the chain is
  // the verifier's business).
  void IssueCertificate(const std::string& name) {
    CommandResult key = RunCommand({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                                    "ec_paramgen_curve:P-256", "-out", File("ca.key")});
    ASSERT_EQ(key.exit_code, 0) << key.err;
    CommandResult certificate =
        RunCommand({"openssl", "x509", "-new", "-subj", "/CN=attest test EK", "-force_pubkey",
                    File(name + ".pem"), "-key", File("ca.key"), "-days", "1", "-outform", "DER",
                    "-out", File(name + ".der")});
    ASSERT_EQ(certificate.exit_code, 0) << certificate.err;
  }

  // Defines `index` as the platform (whose auth swtpm leaves empty) or as
  // the owner, and writes `file` into it.
  void WriteNv(const std::string& index, const std::string& file, bool platform) {
    const std::string size = std::to_string(ReadText(file).size());
    const std::string hierarchy = platform ? "p" : "o";
    CommandResult defined =
        platform ? Tool({"tpm2_nvdefine", index, "-C", "p", "-s", size, "-a",
                         "ppwrite|writedefine|ppread|ownerread|authread|no_da|platformcreate"})
                 : Tool({"tpm2_nvdefine", index, "-C", "o", "-s", size, "-a",
                         "ownerwrite|ownerread|authread"});
    ASSERT_EQ(defined.exit_code, 0) << defined.err;
    CommandResult written = Tool({"tpm2_nvwrite", index, "-C", hierarchy, "-i", file});
    ASSERT_EQ(written.exit_code, 0) << written.err;
  }

  void UndefineNv(const std::string& index, bool platform) {
    CommandResult undefined = Tool({"tpm2_nvundefine", "-C", platform ? "p" : "o", index});
    ASSERT_EQ(undefined.exit_code, 0) << undefined.err;
  }

  static std::string Warnings(const Endorsement& endorsement) {
    std::string text;
    for (const std::string& warning : endorsement.warnings) text += warning + "\n";
    return text;
  }
};

struct HighRangeCase {
  const char* name;
  EkAlgorithm algorithm;
  std::uint32_t certificate_index;
  const char* tools_algorithm;
  const char* low_range_index;  // swtpm's certificate there would be chosen first
};
void PrintTo(const HighRangeCase& test_case, std::ostream* out) { *out << test_case.name; }

class HighRangeEkTest : public EkTemplateTest,
                        public ::testing::WithParamInterface<HighRangeCase> {};

// Regression (issue 10, item 17): H-1 and H-2 filled unique with zeros, so
// attestd derived another key than the one the certificate is for.
TEST_P(HighRangeEkTest, TheEkIsTheKeyItsCertificateIsFor) {
  const HighRangeCase& test_case = GetParam();
  CreateReference("ek", test_case.tools_algorithm, kHighRangeAttributes, kPolicyBSha256);
  const TPMT_PUBLIC reference = Template("ek");
  if (reference.type == TPM2_ALG_RSA) {
    EXPECT_EQ(reference.unique.rsa.size, 0);
  } else {
    EXPECT_EQ(reference.unique.ecc.x.size + reference.unique.ecc.y.size, 0);
  }
  IssueCertificate("ek");
  const std::string index =
      HexEncode(Bytes{0x01, 0xc0, 0x00, static_cast<std::uint8_t>(test_case.certificate_index)});
  if (test_case.low_range_index != nullptr) UndefineNv(test_case.low_range_index, true);
  WriteNv("0x" + index, File("ek.der"), true);

  auto endorsement = tpm().ReadEndorsement(test_case.algorithm);
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  EXPECT_EQ(endorsement->profile.certificate_index, test_case.certificate_index);
  EXPECT_TRUE(endorsement->profile.high_range);
  EXPECT_TRUE(IsReference(endorsement->public_key, "ek"));

  // Policy B (SHA-256) authorizes it for ActivateCredential.
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(ak.ok()) << ak.error().ToString();
  auto [blob, secret] =
      MakeCredentialWithTools(endorsement->public_key, *ak, "high-range credential");
  auto recovered = tpm().ActivateCredential(*ak, *endorsement, blob, secret);
  ASSERT_TRUE(recovered.ok()) << recovered.error().ToString();
  EXPECT_EQ(std::string(AsText(*recovered)), "high-range credential");
  EXPECT_EQ(TransientHandles(), "");
}

INSTANTIATE_TEST_SUITE_P(H1AndH2, HighRangeEkTest,
                         ::testing::Values(HighRangeCase{"H1Rsa2048", EkAlgorithm::kRsa, 0x01c00012,
                                                         "rsa2048:null:aes128cfb", "0x01c00002"},
                                           HighRangeCase{"H2EccP256", EkAlgorithm::kEcc, 0x01c00014,
                                                         "ecc256:null:aes128cfb", nullptr}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// Regression (issue 10, item 17): with an empty owner auth anyone can
// define 0x01c00004 as owner; its template was used as the EK's.
TEST_F(EkTemplateTest, AnEkTemplateIndexTheOwnerDefinedIsIgnored) {
  // A plausible EK template (restricted decrypt, fixedTPM) for another key.
  Bytes unique = {0x00, 0x01};  // size 256, little endian
  unique.resize(2 + 256, 0x41);
  CreateReference("other", "rsa2048:null:aes128cfb", kLowRangeAttributes, kPolicyASha256, unique);
  WriteNv("0x01c00004", File("other.tmpl"), false);

  auto endorsement = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  EXPECT_EQ(endorsement->profile.certificate_index, 0x01c00002u);
  EXPECT_FALSE(IsReference(endorsement->public_key, "other"));
  ASSERT_EQ(endorsement->warnings.size(), 1u) << Warnings(*endorsement);
  EXPECT_NE(endorsement->warnings[0].find("0x01c00004"), std::string::npos);
  EXPECT_NE(endorsement->warnings[0].find("not created by the platform"), std::string::npos)
      << endorsement->warnings[0];

  // The control: the same bytes in a platform-made index are used, and the
  // key they derive is not the one swtpm's certificate is for.
  UndefineNv("0x01c00004", false);
  WriteNv("0x01c00004", File("other.tmpl"), true);
  auto used = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.error().code, ErrorCode::kVerificationFailed) << used.error().ToString();
}

TEST_F(EkTemplateTest, APlatformTemplateThatIsNotAnEksIsIgnored) {
  // Not restricted: a key that would decrypt anything for anyone.
  CreateReference("loose", "rsa2048:null:null",
                  "fixedtpm|fixedparent|sensitivedataorigin|"
                  "adminwithpolicy|decrypt",
                  kPolicyASha256);
  WriteNv("0x01c00004", File("loose.tmpl"), true);
  auto endorsement = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  ASSERT_EQ(endorsement->warnings.size(), 1u) << Warnings(*endorsement);
  EXPECT_NE(endorsement->warnings[0].find("not a restricted decryption key"), std::string::npos)
      << endorsement->warnings[0];
}

class PlatformEkTemplateTest : public EkTemplateTest {
 protected:
  SwtpmOptions Options() const override { return {.create_ek_certificates = false}; }
};

// The positive case: a platform's template and nonce derive the EK exactly
// as the profile says (nonce in unique.rsa, zero-padded to 256 bytes),
// and a nonce index an owner made is ignored.
TEST_F(PlatformEkTemplateTest, APlatformTemplateAndNonceDeriveTheEk) {
  CreateReference("template", "rsa2048:null:aes128cfb", kLowRangeAttributes, kPolicyASha256);
  const std::string nonce = "platform nonce 0123";
  Bytes unique = {0x00, 0x01};
  unique.insert(unique.end(), nonce.begin(), nonce.end());
  unique.resize(2 + 256, 0x00);
  CreateReference("with-nonce", "rsa2048:null:aes128cfb", kLowRangeAttributes, kPolicyASha256,
                  unique);
  WriteText(File("nonce"), nonce);
  WriteNv("0x01c00004", File("template.tmpl"), true);
  WriteNv("0x01c00003", File("nonce"), true);

  auto endorsement = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  EXPECT_TRUE(endorsement->warnings.empty()) << Warnings(*endorsement);
  EXPECT_TRUE(IsReference(endorsement->public_key, "with-nonce"));

  UndefineNv("0x01c00003", true);
  WriteNv("0x01c00003", File("nonce"), false);
  endorsement = tpm().ReadEndorsement(EkAlgorithm::kRsa);
  ASSERT_TRUE(endorsement.ok()) << endorsement.error().ToString();
  ASSERT_EQ(endorsement->warnings.size(), 1u) << Warnings(*endorsement);
  EXPECT_NE(endorsement->warnings[0].find("EK nonce at NV 0x01c00003 ignored"), std::string::npos)
      << endorsement->warnings[0];
  EXPECT_TRUE(IsReference(endorsement->public_key, "template"));
}

}  // namespace
}  // namespace attest::test
