// Every list, the repository's fixtures (testdata/ima) and the shared set's
// (when present), against its NAME.expected.json sidecar: accepted lists
// replay to the PCR values recorded from real TPMs or cross-checked by evmctl; malformed ones are
// rejected at the position pinned below; "strict reject / lenient accept" files both ways.
#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attest/encoding.h"
#include "attest/testdata.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/ima_log.h"

#include "ima_test_util.h"

namespace attest::verifier {
namespace {

using test::ImaFixtureDir;
using test::ImaTestdataDir;
using test::ReadTestFile;

constexpr std::string_view kSidecarSuffix = ".expected.json";

// Where each malformed file must be rejected (the sidecars say why, not
// where). tpm2tss_sml-ima-ng-sha1-invalidated.bin: template data length at
// 4 + 20 + 4 + 6 says 49, 48 bytes remain.
const std::map<std::string, std::string>& RejectPositions() {
  static const auto* positions = new std::map<std::string, std::string>{
      {"tpm2tss_sml-ima-ng-sha1-invalidated.bin", "byte offset 34: "},
      {"rustkeylime_invalid_ima_log.txt", "line 1: "},
  };
  return *positions;
}

// The parameter standing for the shared set when it is missing.
constexpr char kSharedMissing[] = "shared-testdata-missing";

// Full paths: the repository's fixtures, then the shared lists (or the
// placeholder that skips, naming the variable, when they are missing).
std::vector<std::string> AllLists() {
  std::vector<std::string> paths;
  for (const std::string& dir : {ImaFixtureDir(), ImaTestdataDir()}) {
    for (const std::string& name : testdata::DataFiles(dir)) paths.push_back(dir + "/" + name);
  }
  if (!testdata::SharedPresent()) paths.emplace_back(kSharedMissing);
  return paths;
}

// {"sha1": {"10": "hex"}} -> PcrValues; other keys ("note") ignored.
tpm::PcrValues ExpectedPcrs(const nlohmann::json& banks) {
  tpm::PcrValues values;
  for (const auto& [bank, pcrs] : banks.items()) {
    if (!pcrs.is_object()) continue;
    Result<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmByName(bank);
    EXPECT_TRUE(algorithm.ok()) << bank;
    if (!algorithm.ok()) continue;
    for (const auto& [index, hex] : pcrs.items()) {
      values[algorithm->id][static_cast<std::uint32_t>(std::stoul(index))] =
          *HexDecode(hex.get<std::string>());
    }
  }
  return values;
}

std::vector<std::uint16_t> Banks(const tpm::PcrValues& values) {
  std::vector<std::uint16_t> banks;
  for (const auto& [bank, pcrs] : values) banks.push_back(bank);
  return banks;
}

// Counts the sidecar gives ("templates", "file_hash_algs", "violations").
void ExpectCounts(const ImaLog& log, const nlohmann::json& sidecar) {
  ASSERT_EQ(log.entries.size(), sidecar.at("records").get<std::size_t>());
  std::map<std::string, std::size_t> templates;
  std::map<std::string, std::size_t> algorithms;
  std::size_t violations = 0;
  for (const ImaEntry& entry : log.entries) {
    ++templates[entry.template_name];
    if (entry.template_name != "ima") ++algorithms[entry.file_hash_algorithm];
    if (entry.violation()) ++violations;
  }
  if (sidecar.contains("templates")) {
    EXPECT_EQ(nlohmann::json(templates), sidecar["templates"]);
  }
  if (sidecar.contains("file_hash_algs")) {
    EXPECT_EQ(nlohmann::json(algorithms), sidecar["file_hash_algs"]);
  }
  if (sidecar.contains("violations")) {
    EXPECT_EQ(violations, sidecar["violations"].get<std::size_t>());
  }
}

// expected_pcrs (and computed_only, and the legacy-kernel values) exactly.
void ExpectReplay(const ImaLog& log, const nlohmann::json& sidecar) {
  tpm::PcrValues expected = ExpectedPcrs(sidecar.at("expected_pcrs"));
  if (sidecar.contains("computed_only")) {
    for (auto& [bank, pcrs] : ExpectedPcrs(sidecar["computed_only"].at("pcrs"))) {
      expected[bank] = pcrs;
    }
  }
  std::vector<std::uint16_t> banks = Banks(expected);
  Result<tpm::PcrValues> replayed = ReplayImaLog(log, banks);
  ASSERT_TRUE(replayed.ok()) << replayed.error().ToString();
  EXPECT_EQ(*replayed, expected);

  if (sidecar.contains("expected_pcrs_if_legacy_kernel")) {
    tpm::PcrValues legacy = ExpectedPcrs(sidecar["expected_pcrs_if_legacy_kernel"]);
    Result<tpm::PcrValues> replayed_legacy = ReplayImaLogLegacyKernel(log, Banks(legacy));
    ASSERT_TRUE(replayed_legacy.ok()) << replayed_legacy.error().ToString();
    EXPECT_EQ(*replayed_legacy, legacy);
  }
}

class ImaTestdataTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ImaTestdataTest, MatchesSidecar) {
  if (GetParam() == kSharedMissing) ATTEST_NEED_SHARED_TESTDATA();
  const std::string& path = GetParam();
  const std::string name = path.substr(path.rfind('/') + 1);
  Bytes bytes = ReadTestFile(path);
  std::string sidecar_path = path;  // appended: a false -Wrestrict in GCC 12 at -O3
  sidecar_path += kSidecarSuffix;
  Bytes sidecar_text = ReadTestFile(sidecar_path);
  ASSERT_FALSE(sidecar_text.empty()) << "no sidecar for " << path;
  nlohmann::json sidecar = nlohmann::json::parse(AsText(sidecar_text));
  std::string expected = sidecar.at("expected_result").get<std::string>();

  ImaLogOptions strict;
  ImaLogOptions lenient;
  lenient.allow_trailing_partial_header = true;
  Result<ImaLog> strict_log = ParseImaLog(bytes, strict);
  Result<ImaLog> lenient_log = ParseImaLog(bytes, lenient);

  if (expected == "accept") {
    ASSERT_TRUE(strict_log.ok()) << strict_log.error().ToString();
    EXPECT_EQ(strict_log->trailing_bytes, 0u);
    ExpectCounts(*strict_log, sidecar);
    ExpectReplay(*strict_log, sidecar);
    ASSERT_TRUE(lenient_log.ok());
    EXPECT_EQ(lenient_log->entries.size(), strict_log->entries.size());
  } else if (expected == "reject") {
    auto position = RejectPositions().find(name);
    ASSERT_NE(position, RejectPositions().end()) << "pin the reject position of " << name;
    for (const Result<ImaLog>* result : {&strict_log, &lenient_log}) {
      ASSERT_FALSE(result->ok());
      EXPECT_EQ(result->error().code, ErrorCode::kCorrupt) << result->error().ToString();
      EXPECT_TRUE(result->error().message.starts_with(position->second)) << result->error().message;
    }
  } else if (expected.starts_with("strict: reject")) {
    std::size_t trailing =
        sidecar.at("trailing_bytes_after_last_complete_record").get<std::size_t>();
    ASSERT_FALSE(strict_log.ok());
    EXPECT_EQ(strict_log.error().code, ErrorCode::kCorrupt);
    std::string where = "byte offset ";  // appended: a false -Wrestrict in GCC 12 at -O3
    where += std::to_string(bytes.size() - trailing);
    where += ": ";
    EXPECT_TRUE(strict_log.error().message.starts_with(where)) << strict_log.error().message;

    ASSERT_TRUE(lenient_log.ok()) << lenient_log.error().ToString();
    EXPECT_EQ(lenient_log->trailing_bytes, trailing);
    ExpectCounts(*lenient_log, sidecar);
    ExpectReplay(*lenient_log, sidecar);
  } else {
    FAIL() << "unknown expected_result \"" << expected << "\"";
  }
}

// Shared lists by their file name, the repository's fixtures as repo_NAME.
std::string CaseName(const ::testing::TestParamInfo<std::string>& param) {
  std::string name = param.param.substr(param.param.rfind('/') + 1);
  if (param.param.starts_with(ImaFixtureDir())) {
    name.insert(0, "repo_", 5);  // not "lit" + string: a false -Wrestrict in GCC 12 at -O3
  }
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllFiles, ImaTestdataTest, ::testing::ValuesIn(AllLists()), CaseName);

// Catches a sidecar-less file or an emptied directory.
void ExpectSidecars(const std::string& dir, std::size_t at_least) {
  std::vector<std::string> files = testdata::DataFiles(dir);
  EXPECT_GE(files.size(), at_least) << dir;
  for (const std::string& name : files) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + name + std::string(kSidecarSuffix))) << name;
  }
}

TEST(ImaTestdata, EveryFixtureHasASidecar) { ExpectSidecars(ImaFixtureDir(), 4); }

TEST(ImaTestdata, EverySharedListHasASidecar) {
  ATTEST_NEED_SHARED_TESTDATA();
  ExpectSidecars(ImaTestdataDir(), 9);
}

// The fixtures' sha384 and sha512 PCR 10, as the guest read them: Debian's
// kernel had no sha384/sha512 code when IMA started (modules), so it
// extended those banks with the sha1 template digest zero-padded, and a
// violation with 0xff.. of the bank's full size. Neither ReplayImaLog nor
// ReplayImaLogLegacyKernel (20 x 0xff for a violation) gives these values:
// a verifier must not quote those banks for PCR 10 on such a kernel.
TEST(ImaTestdata, FixtureBanksTheKernelCouldNotHashHoldPaddedSha1Digests) {
  for (const char* name : {"ovmf-sb-off.bin", "ovmf-sb-on.bin"}) {
    SCOPED_TRACE(name);
    std::string path = ImaFixtureDir() + "/" + name;
    Result<ImaLog> log = ParseImaLog(ReadTestFile(path));
    ASSERT_TRUE(log.ok()) << log.error().ToString();
    ASSERT_EQ(log->template_digest_size, 20u);
    std::string sidecar_path = path;  // appended: a false -Wrestrict in GCC 12 at -O3
    sidecar_path += kSidecarSuffix;
    nlohmann::json sidecar = nlohmann::json::parse(AsText(ReadTestFile(sidecar_path)));
    for (const char* bank : {"sha384", "sha512"}) {
      tpm::HashAlgorithm algorithm = tpm::HashAlgorithmByName(bank).value();
      Bytes pcr(algorithm.digest_size, 0);
      std::size_t violations = 0;
      for (const ImaEntry& entry : log->entries) {
        Bytes extended = pcr;
        if (entry.violation()) {
          extended.resize(2 * algorithm.digest_size, 0xff);
          ++violations;
        } else {
          extended.insert(extended.end(), entry.template_digest.begin(),
                          entry.template_digest.end());
          extended.resize(2 * algorithm.digest_size, 0);
        }
        pcr = tpm::HashWith(algorithm, extended).value();
      }
      const std::string quoted = sidecar["quoted_pcrs"][bank]["10"].get<std::string>();
      EXPECT_EQ(HexEncode(pcr), quoted) << bank;
      std::array<std::uint16_t, 1> banks = {algorithm.id};
      Result<tpm::PcrValues> legacy = ReplayImaLogLegacyKernel(*log, banks);
      ASSERT_TRUE(legacy.ok()) << legacy.error().ToString();
      EXPECT_NE(HexEncode(legacy->at(algorithm.id).at(10)), quoted) << bank;
      EXPECT_EQ(violations, 1u);
    }
  }
}

// The ASCII per-algorithm list starts with boot_aggregate, the sha256 of
// PCRs 0-9 from its companion firmware log (sidecar notes).
TEST(ImaTestdata, Sha256AsciiListDetectsDigestSize) {
  ATTEST_NEED_SHARED_TESTDATA();
  std::string dir = ImaTestdataDir();
  Bytes bytes = ReadTestFile(dir + "/imaverify_e5460c7_ascii_runtime_measurements_sha256.txt");
  Result<ImaLog> log = ParseImaLog(bytes);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->format, ImaLogFormat::kAscii);
  EXPECT_EQ(log->template_digest_size, 32u);
  EXPECT_EQ(log->entries[0].path, "boot_aggregate");
  EXPECT_EQ(HexEncode(log->entries[0].file_digest).substr(0, 8), "fad464ba");
}

// The sidecar: read with 20-byte digests, the name length at offset 24 is
// 994622777. Forcing that size must fail cleanly there; detection picks 32.
TEST(ImaTestdata, Sha256BinaryListNeeds32ByteDigests) {
  ATTEST_NEED_SHARED_TESTDATA();
  std::string dir = ImaTestdataDir();
  Bytes bytes = ReadTestFile(dir + "/imaverify_binary_runtime_measurements_sha256.bin");
  ImaLogOptions options;
  options.template_digest_size = 20;
  Result<ImaLog> forced = ParseImaLog(bytes, options);
  ASSERT_FALSE(forced.ok());
  EXPECT_EQ(forced.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(forced.error().message,
            "byte offset 24: template name length 994622777 is not in 1..255");
  Result<ImaLog> detected = ParseImaLog(bytes);
  ASSERT_TRUE(detected.ok());
  EXPECT_EQ(detected->template_digest_size, 32u);
  EXPECT_EQ(detected->format, ImaLogFormat::kBinary);
}

}  // namespace
}  // namespace attest::verifier
