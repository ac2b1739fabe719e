// ASCII lists: lines re-encode to the same template data as the binary list
// they print, and malformed lines are rejected naming their line.
#include <array>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/testdata.h"
#include "attest/verifier/ima_log.h"

#include "ima_test_util.h"

namespace attest::verifier {
namespace {

using test::AsciiLine;
using test::RecordSpec;

using test::kSha1;
using test::kSha256;

std::string CorruptMessage(std::string_view text) {
  Result<ImaLog> log = ParseImaLog(AsBytes(text));
  if (log.ok()) return "accepted";
  EXPECT_EQ(log.error().code, ErrorCode::kCorrupt) << log.error().ToString();
  return log.error().message;
}

// Prints a parsed binary list the way the kernel's ASCII file would.
std::string ToAscii(const ImaLog& log) {
  std::string text;
  for (const ImaEntry& entry : log.entries) {
    std::string pcr = std::to_string(entry.pcr);
    text += (pcr.size() == 1 ? " " : "") + pcr + " " + HexEncode(entry.template_digest) + " " +
            entry.template_name + " ";
    if (entry.template_name != "ima") text += entry.file_hash_algorithm + ":";
    text += HexEncode(entry.file_digest) + " " + entry.path;
    if (entry.template_name == "ima-sig") text += " " + HexEncode(entry.signature);
    text += "\n";
  }
  return text;
}

// The binary lists of every template, printed as ASCII, parse back to the
// same records and replay to the same PCRs.
TEST(ImaAscii, ReencodesEveryTemplateLikeTheBinaryList) {
  ATTEST_NEED_SHARED_TESTDATA();
  std::string dir = test::ImaTestdataDir();
  for (const char* name : {"tpm2tss_sml-ima-ng-sha1.bin", "tpm2tss_sml-ima-sha1.bin",
                           "tpm2tss_sml-ima-sig-sha256-invalidated.bin"}) {
    SCOPED_TRACE(name);
    ImaLogOptions lenient;
    lenient.allow_trailing_partial_header = true;
    Result<ImaLog> binary = ParseImaLog(test::ReadTestFile(dir + "/" + name), lenient);
    ASSERT_TRUE(binary.ok()) << binary.error().ToString();
    std::string text = ToAscii(*binary);
    Result<ImaLog> ascii = ParseImaLog(AsBytes(text));
    ASSERT_TRUE(ascii.ok()) << ascii.error().ToString();
    EXPECT_EQ(ascii->format, ImaLogFormat::kAscii);
    ASSERT_EQ(ascii->entries.size(), binary->entries.size());
    for (std::size_t i = 0; i < ascii->entries.size(); ++i) {
      EXPECT_EQ(ascii->entries[i].position, i + 1);
      EXPECT_EQ(ascii->entries[i].template_data, binary->entries[i].template_data) << i;
      EXPECT_EQ(ascii->entries[i].signature, binary->entries[i].signature) << i;
    }
    std::array<std::uint16_t, 2> banks = {kSha1, kSha256};
    EXPECT_EQ(*ReplayImaLog(*ascii, banks), *ReplayImaLog(*binary, banks));
  }
}

TEST(ImaAscii, ImaSigWithAndWithoutSignature) {
  RecordSpec signed_spec;
  signed_spec.template_name = "ima-sig";
  signed_spec.signature = {0x03, 0x02, 0x04, 0xaa, 0xbb};
  RecordSpec unsigned_spec = signed_spec;
  unsigned_spec.signature.clear();
  unsigned_spec.path = "/bin/ls";
  std::string unsigned_line = AsciiLine(unsigned_spec);
  ASSERT_TRUE(unsigned_line.ends_with("/bin/ls \n"));  // the kernel's trailing space
  std::string text = AsciiLine(signed_spec) + unsigned_line;
  // Without the trailing space too (tools that strip lines).
  text += unsigned_line.substr(0, unsigned_line.size() - 2) + "\n";
  Result<ImaLog> log = ParseImaLog(AsBytes(text));
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  ASSERT_EQ(log->entries.size(), 3u);
  EXPECT_EQ(log->entries[0].signature, signed_spec.signature);
  EXPECT_TRUE(log->entries[1].signature.empty());
  std::array<std::uint16_t, 1> banks = {kSha256};
  EXPECT_TRUE(ReplayImaLog(*log, banks).ok());
}

TEST(ImaAscii, SingleDigitPcrIsSpacePadded) {
  RecordSpec spec;
  spec.pcr = 9;
  std::string line = AsciiLine(spec);
  ASSERT_EQ(line[0], ' ');
  Result<ImaLog> log = ParseImaLog(AsBytes(line));
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->entries[0].pcr, 9u);
  EXPECT_EQ(CorruptMessage(line.substr(1)), "line 1: PCR index \"9\" is not \"%2d\"");
  EXPECT_EQ(CorruptMessage("0" + line.substr(1)), "line 1: PCR index \"09\" is not \"%2d\"");
}

TEST(ImaAscii, MissingFinalNewlineIsAccepted) {
  std::string line = AsciiLine(RecordSpec{});
  line.pop_back();
  Result<ImaLog> log = ParseImaLog(AsBytes(line));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->entries.size(), 1u);
}

TEST(ImaAscii, MalformedLinesNameTheirLine) {
  const std::string good = AsciiLine(RecordSpec{});
  auto second_line = [&](const std::string& line) { return CorruptMessage(good + line + "\n"); };
  std::string digest = HexEncode(test::TemplateDigest(RecordSpec{}));
  std::string file = "sha256:" + std::string(64, 'a');

  EXPECT_EQ(second_line(""), "line 2: empty line");
  EXPECT_EQ(second_line("10 " + digest),
            "line 2: expected \"PCR template-digest template-name fields...\"");
  EXPECT_EQ(second_line("10 " + digest + " ima-ng " + file),
            "line 2: ima-ng record has 1 fields, expected algo:digest path");
  EXPECT_EQ(second_line("10 " + digest + " ima-ng " + file + " /a "),
            "line 2: ima-ng record has 3 fields, expected algo:digest path");
  EXPECT_EQ(second_line("10 " + digest + " ima-ng " + file + "  /a"),
            "line 2: ima-ng record has 3 fields, expected algo:digest path");
  EXPECT_EQ(second_line("24 " + digest + " ima-ng " + file + " /a"),
            "line 2: PCR index 24 is not below 24");
  EXPECT_EQ(second_line("1x " + digest + " ima-ng " + file + " /a"),
            "line 2: PCR index \"1x\" is not \"%2d\"");

  std::string upper = digest;
  upper[0] = 'A';
  EXPECT_EQ(second_line("10 " + upper + " ima-ng " + file + " /a"),
            "line 2: template digest is not lowercase hex of whole bytes");
  EXPECT_EQ(second_line("10 " + digest.substr(2) + " ima-ng " + file + " /a"),
            "line 2: template digest has 38 hex digits, expected 40");
  EXPECT_EQ(second_line("10 " + std::string(64, '0') + " ima-ng " + file + " /a"),
            "line 2: template digest has 64 hex digits, expected 40");
  EXPECT_EQ(second_line("10 " + digest + " ima-ng sha256" + std::string(64, 'a') + " /a"),
            "line 2: file digest \"sha256" + std::string(58, 'a') +  // cut at 64 bytes
                "\" lacks \"algorithm:\"");
  EXPECT_EQ(second_line("10 " + digest + " ima-ng sha7:" + std::string(64, 'a') + " /a"),
            "line 2: unknown file hash algorithm \"sha7\"");
  EXPECT_EQ(second_line("10 " + digest + " ima-ng sha256:" + std::string(62, 'a') + " /a"),
            "line 2: sha256 file digest has 62 hex digits, expected 64");
  EXPECT_EQ(second_line("10 " + digest + " ima-ng sha256:" + std::string(63, 'a') + "g /a"),
            "line 2: file digest is not lowercase hex of whole bytes");
  EXPECT_EQ(second_line("10 " + digest + " ima-sig " + file + " /a 0"),
            "line 2: signature is not lowercase hex of whole bytes");
  EXPECT_EQ(
      second_line("10 " + digest + " ima " + std::string(40, 'a') + " " + std::string(256, 'p')),
      "line 2: ima path longer than 255");
  EXPECT_EQ(second_line("10 " + digest + " ima " + std::string(64, 'a') + " /a"),
            "line 2: ima file digest is not 40 hex digits");

  EXPECT_EQ(second_line("10 " + digest + " ima-n " + file + " /a"),
            "line 2: template \"ima-n\" is not supported in ASCII lists (ima, ima-ng, ima-sig)");

  Result<ImaLog> unknown =
      ParseImaLog(AsBytes(good + "10 " + digest + " ima-buf " + file + " x\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnsupported);
  EXPECT_TRUE(unknown.error().message.starts_with("line 2: template \"ima-buf\""));
}

TEST(ImaAscii, Sha256TemplateDigestsAreDetected) {
  RecordSpec spec;
  spec.digest_size = 32;
  // A per-algorithm list keeps the legacy template's 20-byte file digest.
  RecordSpec legacy = spec;
  legacy.template_name = "ima";
  legacy.file_digest = Bytes(20, 0x11);
  Result<ImaLog> log = ParseImaLog(AsBytes(AsciiLine(spec) + AsciiLine(legacy)));
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->template_digest_size, 32u);
  std::array<std::uint16_t, 1> banks = {kSha256};
  EXPECT_TRUE(ReplayImaLog(*log, banks).ok());

  ImaLogOptions forced;
  forced.template_digest_size = 20;
  Result<ImaLog> wrong = ParseImaLog(AsBytes(AsciiLine(spec)), forced);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message, "line 1: template digest has 64 hex digits, expected 40");
}

TEST(ImaAscii, AlteredPathFailsTemplateDigestCheck) {
  std::string text = AsciiLine(RecordSpec{}) + AsciiLine(RecordSpec{});
  text[text.size() - 2] = 'X';  // last byte of the second path
  Result<ImaLog> log = ParseImaLog(AsBytes(text));
  ASSERT_TRUE(log.ok());
  std::array<std::uint16_t, 1> banks = {kSha1};
  Result<tpm::PcrValues> pcrs = ReplayImaLog(*log, banks);
  ASSERT_FALSE(pcrs.ok());
  EXPECT_EQ(pcrs.error().code, ErrorCode::kVerificationFailed);
  EXPECT_EQ(pcrs.error().message,
            "line 2: template digest does not match the sha1 of the ima-ng template data");
}

}  // namespace
}  // namespace attest::verifier
