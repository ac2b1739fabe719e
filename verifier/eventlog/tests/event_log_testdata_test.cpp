// Every real log in ATTEST_TESTDATA_DIR/eventlogs against its sidecar
// (NAME.expected.json): accepted logs replay to expected_pcrs exactly, with
// no PCR the sidecar does not list; rejected ones fail with a byte offset.
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"

#include "event_log_test_util.h"

namespace attest::verifier {
namespace {

using testing::EventLogDir;
using testing::EventLogFiles;
using testing::ReadEventLog;
using testing::ReadSidecar;

constexpr char kShortNoAction[] = "goattest_short_no_action_eventlog.bin";

TEST(EventLogTestdataTest, DirectoryExists) {
  ASSERT_TRUE(std::filesystem::is_directory(EventLogDir()))
      << "ATTEST_TESTDATA_DIR=" << ATTEST_TESTDATA_DIR << " has no eventlogs/";
  EXPECT_GE(EventLogFiles().size(), 27u);
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
  const std::string& name = GetParam();
  ASSERT_NE(name, "missing") << "no event logs: ATTEST_TESTDATA_DIR=" << ATTEST_TESTDATA_DIR
                             << " has no eventlogs/*.bin";
  Bytes bytes = ReadEventLog(name);
  nlohmann::json sidecar = ReadSidecar(name);
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

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  if (name.ends_with(".bin")) name.resize(name.size() - 4);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::vector<std::string> FilesOrMissing() {
  std::vector<std::string> files = EventLogFiles();
  if (files.empty()) files.push_back("missing");
  return files;
}

INSTANTIATE_TEST_SUITE_P(Testdata, EventLogFileTest, ::testing::ValuesIn(FilesOrMissing()),
                         TestName);

TEST(EventLogTestdataTest, LegacyAndAgileFormats) {
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
