// PCRs and quotes against swtpm, checked by tpm2-tools: what attestd reads
// is what tpm2_pcrread reads, and what it quotes tpm2_checkquote accepts
// with the right nonce and PCR values only.
#include <cstdio>

#include "attest/attestd/firmware_log.h"
#include "attest/encoding.h"
#include "attest/sha256.h"
#include "attest/tpm/algorithms.h"

#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::AkAlgorithm;
using attestd::EkAlgorithm;
using attestd::ReadFirmwareLog;
using attestd::Tpm;

// tpm2_quote's PCR output (the file tpm2_checkquote -f reads): the
// TPML_PCR_SELECTION and TPML_DIGEST structs as they lie in memory, little
// endian. Written here as tpm2-tools 5.4 writes it (lib/pcr.c).
std::string ToolsPcrFile(const tpm::PcrSelection& selection, const tpm::PcrValues& values) {
  auto tpm_selection = tpm::ToTpmSelection(selection);
  EXPECT_TRUE(tpm_selection.ok());
  std::vector<TPML_DIGEST> lists;
  for (const tpm::PcrBankSelection& bank : selection.banks) {
    for (std::uint32_t index : bank.indexes) {
      if (lists.empty() || lists.back().count == 8) lists.push_back(TPML_DIGEST{});
      const Bytes& value = values.at(bank.hash_algorithm).at(index);
      TPM2B_DIGEST& digest = lists.back().digests[lists.back().count++];
      digest.size = static_cast<std::uint16_t>(value.size());
      std::copy(value.begin(), value.end(), digest.buffer);
    }
  }
  std::string file(reinterpret_cast<const char*>(&*tpm_selection), sizeof(TPML_PCR_SELECTION));
  std::uint32_t count = static_cast<std::uint32_t>(lists.size());
  file.append(reinterpret_cast<const char*>(&count), sizeof(count));
  for (const TPML_DIGEST& list : lists) {
    file.append(reinterpret_cast<const char*>(&list), sizeof(list));
  }
  return file;
}

class PcrTest : public TpmTest {};

TEST_F(PcrTest, ReadsEveryPcrOfEveryBankLikeTpm2Pcrread) {
  // 48 values: more than the 8 one TPM2_PCR_Read returns.
  auto selection = tpm::ParsePcrSelection("sha256:0-23+sha1:0-23");
  ASSERT_TRUE(selection.ok());
  ASSERT_EQ(Tool({"tpm2_pcrextend", "9:sha256=" + std::string(64, 'b')}).exit_code, 0);
  auto values = tpm().ReadPcrs(*selection);
  ASSERT_TRUE(values.ok()) << values.error().ToString();
  ASSERT_EQ(values->at(TPM2_ALG_SHA256).size(), 24u);
  ASSERT_EQ(values->at(TPM2_ALG_SHA1).size(), 24u);
  CommandResult read = Tool({"tpm2_pcrread", "sha256:9,17"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  for (std::uint32_t index : {9u, 17u}) {
    std::string hex = HexEncode(values->at(TPM2_ALG_SHA256).at(index));
    for (char& c : hex) c = static_cast<char>(std::toupper(c));
    EXPECT_NE(read.out.find("0x" + hex), std::string::npos) << index << "\n" << read.out;
  }
  // PCR 17 is all ones before any dynamic launch; 9 was extended.
  EXPECT_EQ(values->at(TPM2_ALG_SHA256).at(17), Bytes(32, 0xff));
  EXPECT_NE(values->at(TPM2_ALG_SHA256).at(9), Bytes(32, 0));
}

TEST_F(PcrTest, ExtendFollowsTheTpmHashChainInEveryBankGiven) {
  const Bytes sha256_digest(32, 0x11), sha1_digest(20, 0x22);
  ASSERT_TRUE(
      tpm().ExtendPcr(16, {{TPM2_ALG_SHA256, sha256_digest}, {TPM2_ALG_SHA1, sha1_digest}}).ok());
  auto values = tpm().ReadPcrs(*tpm::ParsePcrSelection("sha256:16+sha1:16"));
  ASSERT_TRUE(values.ok()) << values.error().ToString();
  Bytes chained(32, 0);
  chained.insert(chained.end(), sha256_digest.begin(), sha256_digest.end());
  const Sha256Digest expected = Sha256Of(chained);
  EXPECT_EQ(values->at(TPM2_ALG_SHA256).at(16), Bytes(expected.begin(), expected.end()));
  Bytes sha1_chained(20, 0);
  sha1_chained.insert(sha1_chained.end(), sha1_digest.begin(), sha1_digest.end());
  auto sha1 = tpm::HashWith(*tpm::HashAlgorithmById(TPM2_ALG_SHA1), sha1_chained);
  EXPECT_EQ(values->at(TPM2_ALG_SHA1).at(16), *sha1);

  auto wrong_size = tpm().ExtendPcr(16, {{TPM2_ALG_SHA256, Bytes(20, 0)}});
  EXPECT_EQ(wrong_size.error().code, ErrorCode::kInvalidArgument);
  auto no_pcr = tpm().ExtendPcr(24, {{TPM2_ALG_SHA256, sha256_digest}});
  EXPECT_EQ(no_pcr.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(PcrTest, AnInactiveBankIsAClearError) {
  auto banks = tpm().ActivePcrBanks();
  ASSERT_TRUE(banks.ok()) << banks.error().ToString();
  EXPECT_EQ(*banks, (std::vector<std::uint16_t>{TPM2_ALG_SHA1, TPM2_ALG_SHA256}));
  auto values = tpm().ReadPcrs(*tpm::ParsePcrSelection("sha384:0"));
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.error().code, ErrorCode::kTpm);
  EXPECT_NE(values.error().message.find("sha384:0"), std::string::npos) << values.error().message;
}

class QuoteTest : public TpmTest, public ::testing::WithParamInterface<AkAlgorithm> {};

TEST_P(QuoteTest, Tpm2CheckquoteAcceptsTheQuoteWithItsNonceOnly) {
  auto ak = tpm().CreateAttestationKey(GetParam());
  ASSERT_TRUE(ak.ok()) << ak.error().ToString();
  ASSERT_TRUE(tpm().ExtendPcr(15, {{TPM2_ALG_SHA256, Bytes(32, 0x42)}}).ok());
  auto selection = tpm::ParsePcrSelection("sha256:0,1,2,3,4,5,6,7,15+sha1:0");
  ASSERT_TRUE(selection.ok());
  const Bytes nonce = ToBytes("0123456789abcdef0123456789abcdef");
  auto quote = tpm().MakeQuote(*ak, nonce, *selection);
  ASSERT_TRUE(quote.ok()) << quote.error().ToString();
  EXPECT_EQ(TransientHandles(), "");

  WriteText(File("ak.pem"), PublicKeyPem(ak->public_area));
  WriteBytes("ak.pub", ak->public_area);
  WriteBytes("quote.msg", quote->attest);
  WriteBytes("quote.sig", quote->signature);
  WriteText(File("quote.pcrs"), ToolsPcrFile(quote->selection, quote->pcrs));
  auto check = [&](const std::string& key, const Bytes& qualification) {
    return RunCommand({"tpm2_checkquote", "-u", File(key), "-m", File("quote.msg"), "-s",
                       File("quote.sig"), "-f", File("quote.pcrs"), "-q", HexEncode(qualification),
                       "-g", "sha256"});
  };
  CommandResult good = check("ak.pem", nonce);
  EXPECT_EQ(good.exit_code, 0) << good.err;
  CommandResult tss_format = check("ak.pub", nonce);  // the TPM2B_PUBLIC file works too
  EXPECT_EQ(tss_format.exit_code, 0) << tss_format.err;

  Bytes wrong_nonce = nonce;
  wrong_nonce[0] ^= 1;
  CommandResult bad_nonce = check("ak.pem", wrong_nonce);
  EXPECT_NE(bad_nonce.exit_code, 0);
  EXPECT_NE(bad_nonce.err.find("nonce"), std::string::npos) << bad_nonce.err;

  tpm::PcrValues altered = quote->pcrs;
  altered[TPM2_ALG_SHA256][15][0] ^= 1;
  WriteText(File("quote.pcrs"), ToolsPcrFile(quote->selection, altered));
  CommandResult bad_pcrs = check("ak.pem", nonce);
  EXPECT_NE(bad_pcrs.exit_code, 0);
  EXPECT_NE(bad_pcrs.err.find("PCR"), std::string::npos) << bad_pcrs.err;
}

INSTANTIATE_TEST_SUITE_P(EccAndRsa, QuoteTest,
                         ::testing::Values(AkAlgorithm::kEccP256, AkAlgorithm::kRsa2048),
                         [](const auto& test_param) {
                           return test_param.param == AkAlgorithm::kEccP256 ? "EccP256" : "Rsa2048";
                         });

TEST_F(PcrTest, QuoteRefusesNoncesLongerThanADigest) {
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(ak.ok());
  auto quote = tpm().MakeQuote(*ak, Bytes(65, 1), *tpm::ParsePcrSelection("sha256:0"));
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error().code, ErrorCode::kInvalidArgument);
}

// swtpm without a resource manager has 3 object slots: a leaked transient
// object would make the 4th operation fail with TPM_RC_OBJECT_MEMORY.
TEST_F(PcrTest, ManyOperationsLeaveNoTransientObjectBehind) {
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  auto key = tpm().CreateSigningKey();
  ASSERT_TRUE(ak.ok() && key.ok());
  auto selection = tpm::ParsePcrSelection("sha256:0-7");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(tpm().MakeQuote(*ak, Bytes(32, static_cast<std::uint8_t>(i)), *selection).ok());
    ASSERT_TRUE(tpm().Certify(*key, *ak, Bytes(8, 1)).ok());
    ASSERT_TRUE(tpm().ReadEndorsement(EkAlgorithm::kEcc).ok());
    // A failing operation cleans up too.
    ASSERT_FALSE(tpm().Certify(*key, *ak, Bytes(100, 1)).ok());
  }
  EXPECT_EQ(TransientHandles(), "");
}

TEST_F(PcrTest, UnreachableTctiNamesItself) {
  TempDir dir;
  const std::string tcti = "swtpm:path=" + dir.File("no-such.sock");
  auto opened = Tpm::Open(tcti);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kTpm);
  EXPECT_NE(opened.error().message.find(tcti), std::string::npos) << opened.error().ToString();
}

TEST(FirmwareLog, ReadsTheFileAndExplainsAMissingOne) {
  TempDir dir;
  const std::string bytes("\x00\x00\x00\x00\x03\x00\x00\x00binary\xff log", 18);
  WriteText(dir.File("binary_bios_measurements"), bytes);
  auto log = ReadFirmwareLog(dir.File("binary_bios_measurements"));
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(std::string(AsText(*log)), bytes);
  WriteText(dir.File("empty"), "");
  EXPECT_EQ(ReadFirmwareLog(dir.File("empty")).error().code, ErrorCode::kCorrupt);
  auto missing = ReadFirmwareLog("/nonexistent/binary_bios_measurements");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("securityfs"), std::string::npos);
}

}  // namespace
}  // namespace attest::test
