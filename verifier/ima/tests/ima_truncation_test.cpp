// The real lists cut at every byte: a cut on a record boundary leaves the
// records before it, any other cut is an error that names a position inside
// the cut record (binary) or is caught by the template digest (ASCII, where
// a cut path still looks like a path). Never a crash, never a silent success.
#include <array>
#include <string>

#include <gtest/gtest.h>

#include "attest/verifier/ima_log.h"

#include "ima_test_util.h"

namespace attest::verifier {
namespace {

constexpr std::array<std::uint16_t, 2> kBanks = {0x0004, 0x000B};

class ImaBinaryTruncationTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ImaBinaryTruncationTest, EveryCutIsAPrefixOrAnError) {
  std::string dir = testing::ImaTestdataDir();
  ASSERT_FALSE(dir.empty());
  ImaLogOptions lenient;
  lenient.allow_trailing_partial_header = true;
  Bytes bytes = testing::ReadTestFile(dir + "/" + GetParam());
  Result<ImaLog> full = ParseImaLog(bytes, lenient);
  ASSERT_TRUE(full.ok()) << full.error().ToString();
  std::vector<std::size_t> starts;
  for (const ImaEntry& entry : full->entries) starts.push_back(entry.position);
  starts.push_back(bytes.size() - full->trailing_bytes);

  for (std::size_t size = 1; size < starts.back(); ++size) {
    Result<ImaLog> log = ParseImaLog(ByteView(bytes.data(), size));
    auto next = std::upper_bound(starts.begin(), starts.end(), size);
    std::size_t record_start = *(next - 1);
    if (record_start == size) {
      ASSERT_TRUE(log.ok()) << size << ": " << log.error().ToString();
      EXPECT_EQ(log->entries.size(), static_cast<std::size_t>(next - starts.begin() - 1));
      EXPECT_TRUE(ReplayImaLog(*log, kBanks).ok());
      continue;
    }
    ASSERT_FALSE(log.ok()) << size;
    ASSERT_EQ(log.error().code, ErrorCode::kCorrupt);
    const std::string& message = log.error().message;
    ASSERT_TRUE(message.starts_with("byte offset ")) << message;
    std::size_t offset = std::stoul(message.substr(12));
    EXPECT_GE(offset, record_start) << message;
    EXPECT_LE(offset, size) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(SmallLists, ImaBinaryTruncationTest,
                         ::testing::Values("tpm2tss_sml-ima-ng-sha1.bin",
                                           "tpm2tss_sml-ima-sha1.bin",
                                           "tpm2tss_sml-ima-sig-sha256-invalidated.bin"));

TEST(ImaAsciiTruncation, EveryCutInTheFirstLinesIsAPrefixOrAnError) {
  std::string dir = testing::ImaTestdataDir();
  ASSERT_FALSE(dir.empty());
  for (const char* name : {"rustkeylime_ascii_runtime_measurements.txt",
                           "imaverify_e5460c7_ascii_runtime_measurements_sha256.txt"}) {
    SCOPED_TRACE(name);
    Bytes bytes = testing::ReadTestFile(dir + "/" + name);
    std::string_view text = AsText(bytes);
    std::size_t limit = std::min<std::size_t>(text.size(), 1500);
    for (std::size_t size = 1; size < limit; ++size) {
      Result<ImaLog> log = ParseImaLog(ByteView(bytes.data(), size));
      if (text[size - 1] == '\n' || text[size] == '\n') {
        // The whole line is there, with or without its newline.
        ASSERT_TRUE(log.ok()) << size << ": " << log.error().ToString();
        EXPECT_TRUE(ReplayImaLog(*log, kBanks).ok()) << size;
        continue;
      }
      if (log.ok()) {
        Result<tpm::PcrValues> pcrs = ReplayImaLog(*log, kBanks);
        ASSERT_FALSE(pcrs.ok()) << size;
        EXPECT_EQ(pcrs.error().code, ErrorCode::kVerificationFailed);
        EXPECT_TRUE(pcrs.error().message.starts_with("line ")) << pcrs.error().message;
      } else {
        EXPECT_EQ(log.error().code, ErrorCode::kCorrupt) << log.error().ToString();
        EXPECT_TRUE(log.error().message.starts_with("line ")) << log.error().message;
      }
    }
  }
}

}  // namespace
}  // namespace attest::verifier
