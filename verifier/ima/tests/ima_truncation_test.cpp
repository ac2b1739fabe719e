// The real lists cut at every byte: a cut on a record boundary leaves the
// records before it, any other cut is an error that names a position inside
// the cut record (binary) or is caught by the template digest (ASCII, where
// a cut path still looks like a path; only a violation's path is bound by
// nothing). Never a crash, never a silent success.
#include <array>
#include <cctype>
#include <string>

#include <gtest/gtest.h>

#include "attest/testdata.h"
#include "attest/verifier/ima_log.h"

#include "ima_test_util.h"

namespace attest::verifier {
namespace {

constexpr std::array<std::uint16_t, 2> kBanks = {0x0004, 0x000B};

// A list's full path: the repository's fixtures, or the shared set's.
class ImaBinaryTruncationTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ImaBinaryTruncationTest, EveryCutIsAPrefixOrAnError) {
  if (!GetParam().starts_with(test::ImaFixtureDir())) ATTEST_NEED_SHARED_TESTDATA();
  ImaLogOptions lenient;
  lenient.allow_trailing_partial_header = true;
  Bytes bytes = test::ReadTestFile(GetParam());
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

std::string ListName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(info.param.rfind('/') + 1);
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(RepositoryFixtures, ImaBinaryTruncationTest,
                         ::testing::Values(test::ImaFixtureDir() + "/ovmf-sb-on.bin"), ListName);
INSTANTIATE_TEST_SUITE_P(SharedLists, ImaBinaryTruncationTest,
                         ::testing::Values(test::ImaTestdataDir() + "/tpm2tss_sml-ima-ng-sha1.bin",
                                           test::ImaTestdataDir() + "/tpm2tss_sml-ima-sha1.bin",
                                           test::ImaTestdataDir() +
                                               "/tpm2tss_sml-ima-sig-sha256-invalidated.bin"),
                         ListName);

void CheckEveryCutInTheFirstLines(const std::string& path) {
  SCOPED_TRACE(path);
  Bytes bytes = test::ReadTestFile(path);
  std::string_view text = AsText(bytes);
  std::size_t limit = std::min<std::size_t>(text.size(), 1500);
  for (std::size_t size = 1; size < limit; ++size) {
    Result<ImaLog> log = ParseImaLog(ByteView(bytes.data(), size));
    std::size_t line_end = text.find('\n', size - 1);
    std::string_view rest = text.substr(size, line_end - size);
    if (text[size - 1] == '\n' || rest.find_first_not_of(' ') == std::string_view::npos) {
      // The whole line is there, with or without its newline (and without the
      // space before an ima-sig line's empty signature: the same record).
      ASSERT_TRUE(log.ok()) << size << ": " << log.error().ToString();
      EXPECT_TRUE(ReplayImaLog(*log, kBanks).ok()) << size;
      continue;
    }
    if (log.ok() && log->entries.back().violation()) {
      // A violation's data is bound by no digest (it extends 0xff..): a cut
      // inside its path still parses, and replays to the same PCR 10.
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

TEST(ImaAsciiTruncation, EveryCutInTheFirstLinesOfTheRepositoryFixture) {
  CheckEveryCutInTheFirstLines(test::ImaFixtureDir() + "/ovmf-sb-on.txt");
}

TEST(ImaAsciiTruncation, EveryCutInTheFirstLinesOfSharedLists) {
  ATTEST_NEED_SHARED_TESTDATA();
  for (const char* name : {"rustkeylime_ascii_runtime_measurements.txt",
                           "imaverify_e5460c7_ascii_runtime_measurements_sha256.txt"}) {
    CheckEveryCutInTheFirstLines(test::ImaTestdataDir() + "/" + name);
  }
}

}  // namespace
}  // namespace attest::verifier
