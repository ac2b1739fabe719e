// Every real log, the repository's fixtures (testdata/eventlogs) and the
// shared set's (when present), against its sidecar (NAME.expected.json):
// accepted logs replay to expected_pcrs exactly, with no PCR the sidecar does
// not list; rejected ones fail with a byte offset.
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/testdata.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"

#include "event_log_test_util.h"

namespace attest::verifier {
namespace {

using test::EventLogDir;
using test::EventLogFiles;
using test::ReadEventLog;
using test::ReadEventLogAt;
using test::ReadSidecarAt;

constexpr char kShortNoAction[] = "goattest_short_no_action_eventlog.bin";
// The parameter standing for the shared set when it is missing.
constexpr char kSharedMissing[] = "shared-testdata-missing";

TEST(EventLogTestdataTest, FixturesExist) {
  EXPECT_EQ(testdata::DataFiles(testdata::FixturePath("eventlogs"), ".bin"),
            (std::vector<std::string>{"ovmf-sb-off.bin", "ovmf-sb-on.bin"}));
}

TEST(EventLogTestdataTest, SharedDirectoryExists) {
  ATTEST_NEED_SHARED_TESTDATA();
  EXPECT_GE(EventLogFiles().size(), 27u) << EventLogDir();
}

class EventLogFileTest : public ::testing::TestWithParam<std::string> {};

// Replay must give exactly the sidecar's PCRs, bank by bank.
void ExpectPcrs(const tpm::PcrValues& replayed, const nlohmann::json& expected) {
  std::set<std::string> expected_banks;
  for (const auto& [bank_name, pcrs] : expected.items()) {
    expected_banks.insert(bank_name);
    Result<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmByName(bank_name);
    ASSERT_TRUE(algorithm.ok()) << bank_name;
    auto bank = replayed.find(algorithm->id);
    ASSERT_NE(bank, replayed.end()) << "bank " << bank_name << " not replayed";
    for (const auto& [pcr, hex] : pcrs.items()) {
      auto value = bank->second.find(static_cast<std::uint32_t>(std::stoul(pcr)));
      ASSERT_NE(value, bank->second.end()) << bank_name << " PCR " << pcr << " not replayed";
      EXPECT_EQ(HexEncode(value->second), hex.get<std::string>()) << bank_name << " PCR " << pcr;
    }
    for (const auto& [pcr, value] : bank->second) {
      EXPECT_TRUE(pcrs.contains(std::to_string(pcr)))
          << bank_name << " PCR " << pcr << " replayed but not expected: " << HexEncode(value);
    }
  }
  for (const auto& [bank, values] : replayed) {
    std::optional<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmById(bank);
    ASSERT_TRUE(algorithm.has_value());
    EXPECT_TRUE(expected_banks.contains(std::string(algorithm->name)))
        << "bank " << algorithm->name << " replayed (" << values.size()
        << " PCRs) but the sidecar claims none";
  }
}

TEST_P(EventLogFileTest, MatchesSidecar) {
  if (GetParam() == kSharedMissing) ATTEST_NEED_SHARED_TESTDATA();
  const std::string& path = GetParam();
  const std::string name = std::filesystem::path(path).filename().string();
  Bytes bytes = ReadEventLogAt(path);
  nlohmann::json sidecar = ReadSidecarAt(path);
  ASSERT_FALSE(bytes.empty());
  ASSERT_EQ(bytes.size(), sidecar["size_bytes"].get<std::size_t>());
  Result<EventLog> log = ParseEventLog(bytes);
  std::string expected_result = sidecar["expected_result"].get<std::string>();

  if (expected_result == "reject") {
    ASSERT_FALSE(log.ok()) << "malformed log accepted";
    EXPECT_EQ(log.error().code, ErrorCode::kCorrupt);
    EXPECT_TRUE(log.error().message.starts_with("byte offset ")) << log.error().message;
    return;
  }
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  if (sidecar["event_count"].is_number()) {
    EXPECT_EQ(log->events.size(), sidecar["event_count"].get<std::size_t>());
  }
  tpm::PcrValues replayed = ReplayEventLog(*log);
  if (name == kShortNoAction) {
    // Implementation-defined (see the sidecar): we accept it as a log with no
    // measurements; its StartupLocality still sets PCR 0's initial value.
    EXPECT_EQ(log->format, EventLogFormat::kSha1Legacy);
    EXPECT_EQ(log->startup_locality, std::optional<std::uint8_t>(3));
    ASSERT_EQ(replayed.size(), 1u);
    ASSERT_EQ(replayed[kTpmAlgSha1].size(), 1u);
    EXPECT_EQ(HexEncode(replayed[kTpmAlgSha1][0]), std::string(38, '0') + "03");
    return;
  }
  ASSERT_EQ(expected_result, "accept");
  ExpectPcrs(replayed, sidecar["expected_pcrs"]);
}

// Shared logs by their file name, the repository's fixtures as repo_NAME.
std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::filesystem::path path(info.param);
  std::string name = path.stem().string();
  if (info.param.starts_with(testdata::FixturePath(""))) name = "repo_" + name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::vector<std::string> AllLogsAndSharedMissing() {
  std::vector<std::string> paths = test::AllEventLogPaths();
  if (!testdata::SharedPresent()) paths.push_back(kSharedMissing);
  return paths;
}

INSTANTIATE_TEST_SUITE_P(Testdata, EventLogFileTest, ::testing::ValuesIn(AllLogsAndSharedMissing()),
                         TestName);

TEST(EventLogTestdataTest, LegacyAndAgileFormats) {
  ATTEST_NEED_SHARED_TESTDATA();
  // Each EventLog borrows its buffer: keep the bytes alive while it is used.
  Bytes legacy_bytes = ReadEventLog("gotpmtools_debian-10.bin");
  Result<EventLog> legacy = ParseEventLog(legacy_bytes);
  ASSERT_TRUE(legacy.ok()) << legacy.error().ToString();
  EXPECT_EQ(legacy->format, EventLogFormat::kSha1Legacy);
  EXPECT_EQ(legacy->banks, std::vector<std::uint16_t>{kTpmAlgSha1});
  EXPECT_FALSE(legacy->spec_id.has_value());

  Bytes hcrtm_bytes = ReadEventLog("tpm2tss_binary_measurements_hcrtm.bin");
  Result<EventLog> hcrtm = ParseEventLog(hcrtm_bytes);
  ASSERT_TRUE(hcrtm.ok()) << hcrtm.error().ToString();
  EXPECT_EQ(hcrtm->format, EventLogFormat::kCryptoAgile);
  EXPECT_EQ(hcrtm->banks, (std::vector<std::uint16_t>{0x0004, 0x000B, 0x0012}));
  EXPECT_TRUE(hcrtm->hcrtm);
  ASSERT_TRUE(hcrtm->spec_id.has_value());
  EXPECT_EQ(hcrtm->spec_id->uintn_size, 2);
  // Views borrow the input buffer.
  EXPECT_EQ(hcrtm->events[1].data.data(), hcrtm_bytes.data() + hcrtm->events[1].offset + 4 + 4 + 4 +
                                              (2 + 20) + (2 + 32) + (2 + 32) + 4);
  EXPECT_EQ(AsText(hcrtm->events[1].data), "HCRTM");

  Bytes locality_bytes = ReadEventLog("gotpmtools_glinux-alex.bin");
  Result<EventLog> locality = ParseEventLog(locality_bytes);
  ASSERT_TRUE(locality.ok());
  EXPECT_EQ(locality->startup_locality, std::optional<std::uint8_t>(3));
  EXPECT_FALSE(locality->hcrtm);
}

TEST(EventLogTestdataTest, DigestCountBelowSpecIdClaimsNoOtherBank) {
  ATTEST_NEED_SHARED_TESTDATA();
  Bytes bytes = ReadEventLog("tpm2tools_event-uefiaction.bin");
  Result<EventLog> log = ParseEventLog(bytes);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->banks.size(), 4u);
  tpm::PcrValues replayed = ReplayEventLog(*log);
  EXPECT_EQ(replayed.size(), 2u);  // sha1 and sha256; sha384/sha512 PCR 4 unknown
  EXPECT_FALSE(replayed.contains(0x000C));
  EXPECT_FALSE(replayed.contains(0x000D));
}

TEST(EventLogTestdataTest, RejectionOffsets) {
  ATTEST_NEED_SHARED_TESTDATA();
  // vendorInfoSize sits after the 16-byte signature, 4+4 header bytes and two
  // algorithm entries: 32 + 16 + 8 + 4 + 2 * 4 = 68.
  Result<EventLog> vendor = ParseEventLog(ReadEventLog("tpm2tools_specid-vendordata.bin"));
  ASSERT_FALSE(vendor.ok());
  EXPECT_TRUE(vendor.error().message.starts_with("byte offset 68: ")) << vendor.error().message;
  // The bogus text: its "PCR index" is ASCII "bogu", far past 23.
  Result<EventLog> bogus =
      ParseEventLog(ReadEventLog("keylime_create-mb-policy_binary_bios_measurements-bogus.bin"));
  ASSERT_FALSE(bogus.ok());
  EXPECT_TRUE(bogus.error().message.starts_with("byte offset 0: ")) << bogus.error().message;
}

}  // namespace
}  // namespace attest::verifier
