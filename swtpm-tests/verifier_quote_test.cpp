// The verifier against real TPM quotes: a real boot log is replayed into
// swtpm, quoted by tpm2-tools and by attestd, and the evidence verified end
// to end; then each part of it (attest, signature, PCR values, nonce, boot
// log) is altered by one byte and the verdict must name exactly what broke.
#include <string>

#include "verifier_swtpm_fixture.h"

namespace attest::test {
namespace {

using namespace verifier_swtpm;  // NOLINT(google-build-using-namespace): the suite's own fixture

// tpm2-tools make the AK and the quote; the verifier reads their files.
class ToolsQuoteTest : public VerifierSwtpmTest,
                       public ::testing::WithParamInterface<AkAlgorithm> {};

TEST_P(ToolsQuoteTest, VerifierAcceptsTpm2QuoteAndNamesEveryAlteration) {
  const bool ecc = GetParam() == AkAlgorithm::kEccP256;
  ExtendBootLog();
  ASSERT_FALSE(HasFatalFailure());

  CommandResult ek = Tool(
      {"tpm2_createek", "-c", File("ek.ctx"), "-G", ecc ? "ecc" : "rsa", "-u", File("ek.pub")});
  ASSERT_EQ(ek.exit_code, 0) << ek.err;
  CommandResult ak = Tool({"tpm2_createak", "-C", File("ek.ctx"), "-G", ecc ? "ecc" : "rsa", "-g",
                           "sha256", "-s", ecc ? "ecdsa" : "rsassa", "-u", File("ak.pub"), "-n",
                           File("ak.name"), "-c", File("ak.ctx")});
  ASSERT_EQ(ak.exit_code, 0) << ak.err;
  // Without a resource manager the tools leave every object they create or
  // load from a context file in the TPM (tpm2_createek: the EK,
  // tpm2_createak: the AK, tpm2_quote and tpm2_readpublic: the AK again),
  // and swtpm has three object slots: flush them, as a resource manager
  // would. The saved contexts stay loadable.
  EXPECT_NE(TransientHandles(), "");
  CommandResult flushed = Tool({"tpm2_flushcontext", "-t"});
  ASSERT_EQ(flushed.exit_code, 0) << flushed.err;
  ASSERT_EQ(TransientHandles(), "");
  CommandResult quoted =
      Tool({"tpm2_quote", "-c", File("ak.ctx"), "-l", kSelection, "-q", HexEncode(nonce_), "-m",
            File("quote.msg"), "-s", File("quote.sig"), "-o", File("pcrs.out"), "-g", "sha256"});
  ASSERT_EQ(quoted.exit_code, 0) << quoted.err;
  CommandResult pem =
      Tool({"tpm2_readpublic", "-c", File("ak.ctx"), "-f", "pem", "-o", File("ak.pem")});
  ASSERT_EQ(pem.exit_code, 0) << pem.err;
  EXPECT_NE(TransientHandles(), "");
  ASSERT_EQ(Tool({"tpm2_flushcontext", "-t"}).exit_code, 0);
  ASSERT_EQ(TransientHandles(), "");

  // The PCR values tpm2_quote read are the ones attestd reads (and the boot
  // log's replay: ExpectEveryCheck compares them); PCR 15 was never
  // extended.
  tpm::PcrSelection file_selection;
  tpm::PcrValues file_values;
  ParseToolsPcrFile(ReadText(File("pcrs.out")), &file_selection, &file_values);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(file_selection.ToString(), kSelection);
  auto read = tpm().ReadPcrs(selection_);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(file_values, *read);
  EXPECT_EQ(read->at(TPM2_ALG_SHA256).at(kRuntimePcr), Bytes(32, 0));

  auto key = verifier::ParseAttestationKey(AsBytes(ReadText(File("ak.pub"))));
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  ASSERT_TRUE(key->public_area.has_value());
  EXPECT_EQ(key->public_area->type, ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA);
  EXPECT_EQ(key->name, ToBytes(ReadText(File("ak.name"))));  // tpm2_createak -n: the TPM's name
  auto pem_key = verifier::ParseAttestationKey(AsBytes(ReadText(File("ak.pem"))),
                                               {.allow_bare_public_key = true});
  ASSERT_TRUE(pem_key.ok()) << pem_key.error().ToString();
  EXPECT_FALSE(pem_key->public_area.has_value());
  auto other_blob = tpm().CreateAttestationKey(GetParam());
  ASSERT_TRUE(other_blob.ok()) << other_blob.error().ToString();
  auto other_key = verifier::ParseAttestationKey(other_blob->public_area);
  ASSERT_TRUE(other_key.ok()) << other_key.error().ToString();

  const Evidence good = MakeEvidence(ToBytes(ReadText(File("quote.msg"))),
                                     ToBytes(ReadText(File("quote.sig"))), file_values);
  // tpm2_quote -s without -f plain writes a TPMT_SIGNATURE: sigAlg first.
  ASSERT_GE(good.signature.size(), 2u);
  EXPECT_EQ((good.signature[0] << 8) | good.signature[1], ecc ? TPM2_ALG_ECDSA : TPM2_ALG_RSASSA);
  ExpectEveryCheck(good, *key, *pem_key, *other_key);

  // And tpm2_checkquote agrees on the same files.
  CommandResult check = RunCommand({"tpm2_checkquote", "-u", File("ak.pub"), "-m",
                                    File("quote.msg"), "-s", File("quote.sig"), "-f",
                                    File("pcrs.out"), "-q", HexEncode(nonce_), "-g", "sha256"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

std::string AlgorithmName(const ::testing::TestParamInfo<AkAlgorithm>& info) {
  return info.param == AkAlgorithm::kEccP256 ? "EccP256" : "Rsa2048";
}

INSTANTIATE_TEST_SUITE_P(EccAndRsa, ToolsQuoteTest,
                         ::testing::Values(AkAlgorithm::kEccP256, AkAlgorithm::kRsa2048),
                         AlgorithmName);

// attestd makes the AK and the quote, as on a node.
class AttestdQuoteTest : public VerifierSwtpmTest,
                         public ::testing::WithParamInterface<AkAlgorithm> {};

TEST_P(AttestdQuoteTest, VerifierAcceptsAttestdsQuoteAndNamesEveryAlteration) {
  ExtendBootLog();
  ASSERT_FALSE(HasFatalFailure());
  auto ak = tpm().CreateAttestationKey(GetParam());
  ASSERT_TRUE(ak.ok()) << ak.error().ToString();
  auto quote = tpm().MakeQuote(*ak, nonce_, selection_);
  ASSERT_TRUE(quote.ok()) << quote.error().ToString();
  EXPECT_EQ(TransientHandles(), "");
  EXPECT_EQ(quote->selection.ToString(), kSelection);

  auto key = verifier::ParseAttestationKey(ak->public_area);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  const std::string pem = PublicKeyPem(ak->public_area);
  auto pem_key = verifier::ParseAttestationKey(AsBytes(pem), {.allow_bare_public_key = true});
  ASSERT_TRUE(pem_key.ok()) << pem_key.error().ToString();
  auto other_blob = tpm().CreateAttestationKey(GetParam());
  ASSERT_TRUE(other_blob.ok()) << other_blob.error().ToString();
  auto other_key = verifier::ParseAttestationKey(other_blob->public_area);
  ASSERT_TRUE(other_key.ok()) << other_key.error().ToString();

  ExpectEveryCheck(MakeEvidence(quote->attest, quote->signature, quote->pcrs), *key, *pem_key,
                   *other_key);
}

INSTANTIATE_TEST_SUITE_P(EccAndRsa, AttestdQuoteTest,
                         ::testing::Values(AkAlgorithm::kEccP256, AkAlgorithm::kRsa2048),
                         AlgorithmName);

}  // namespace
}  // namespace attest::test
