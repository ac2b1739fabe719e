// attest-swtpm-boot (swtpm-tests/tools) against a private swtpm: the
// repository's OVMF fixture replays to the PCR values read inside the guest
// that made it, and a log it cannot replay is refused with nothing extended.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "attest/attestd/tpm.h"
#include "attest/encoding.h"
#include "attest/json.h"
#include "attest/testdata.h"
#include "attest/testing/test_support.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/pcr.h"
#include "attest/verifier/event_log.h"

#include "harness/swtpm_simulator.h"
#include "synthetic_boot.h"

namespace attest::test {
namespace {

using verifier::test::LogEvent;
using verifier::test::SyntheticLog;

constexpr char kFixture[] = "eventlogs/ovmf-sb-off.bin";

class SwtpmBootToolTest : public SwtpmTest {
 protected:
  SwtpmOptions Options() const override {
    // Every bank the fixture has (the guest's swtpm had the same four).
    return {.pcr_banks = "sha1,sha256,sha384,sha512", .create_ek_certificates = false};
  }

  CommandResult Replay(const std::string& log_path) {
    return RunCommand({ATTEST_SWTPM_BOOT, "--tcti", swtpm().tcti(), "--boot-log", log_path});
  }

  // Every PCR 0-23 of `banks`, through a connection of our own, closed
  // again (swtpm serves one connection at a time, and the tool needs it).
  tpm::PcrValues ReadAll(const std::string& banks) {
    auto selection = tpm::ParsePcrSelection(banks);
    EXPECT_TRUE(selection.ok()) << selection.error().ToString();
    auto tpm = attestd::Tpm::Open(swtpm().tcti());
    EXPECT_TRUE(tpm.ok()) << tpm.error().ToString();
    if (!selection.ok() || !tpm.ok()) return {};
    auto values = (*tpm)->ReadPcrs(*selection);
    EXPECT_TRUE(values.ok()) << values.error().ToString();
    return values.ok() ? *values : tpm::PcrValues{};
  }

  // Whether every value read is the PCR's reset value.
  static void ExpectAtReset(const tpm::PcrValues& values) {
    ASSERT_FALSE(values.empty());
    for (const auto& [bank, pcrs] : values) {
      for (const auto& [pcr, value] : pcrs) {
        EXPECT_EQ(value, tpm::PcrResetValue(pcr, value.size()))
            << tpm::AlgorithmName(bank) << " PCR " << pcr;
      }
    }
  }

  TempDir files_{"swtpm_boot"};
};

constexpr char kAllPcrs[] = "sha1:0-23+sha256:0-23+sha384:0-23+sha512:0-23";

TEST_F(SwtpmBootToolTest, FixtureReplaysToTheValuesReadInTheGuest) {
  CommandResult result = Replay(testdata::FixturePath(kFixture));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "extended 24 events into PCRs 0,1,2,3,4,5,6,7,9 (sha1, sha256, sha384, sha512); "
            "the TPM's PCRs equal the log's replay\n");
  EXPECT_EQ(result.err, "");

  // The oracle: the sidecar's values, read inside the guest that wrote the
  // log, not computed by this repository; every other PCR untouched.
  auto sidecar =
      ParseJsonStrict(ReadText(testdata::FixturePath(std::string(kFixture) + ".expected.json")));
  ASSERT_TRUE(sidecar.ok()) << sidecar.error().ToString();
  const Json& expected = (*sidecar)["expected_pcrs"];
  const tpm::PcrValues values = ReadAll(kAllPcrs);
  std::size_t compared = 0;
  for (const char* bank_name : {"sha1", "sha256", "sha384", "sha512"}) {
    auto bank = tpm::HashAlgorithmByName(bank_name);
    ASSERT_TRUE(bank.ok());
    ASSERT_TRUE(expected.contains(bank_name)) << bank_name;
    for (std::uint32_t pcr = 0; pcr < tpm::kPcrCount; ++pcr) {
      const std::string key = std::to_string(pcr);
      const std::string want = expected[bank_name].contains(key)
                                   ? expected[bank_name][key].get<std::string>()
                                   : HexEncode(tpm::PcrResetValue(pcr, bank->digest_size));
      EXPECT_EQ(HexEncode(values.at(bank->id).at(pcr)), want) << bank_name << " PCR " << pcr;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 4u * 24u);

  // A second replay on top cannot match the log: refused before it extends.
  CommandResult again = Replay(testdata::FixturePath(kFixture));
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_NE(again.err.find("PCR 0 holds"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("not its reset value"), std::string::npos) << again.err;
  EXPECT_EQ(again.out, "");
  EXPECT_EQ(ReadAll(kAllPcrs), values);
}

TEST_F(SwtpmBootToolTest, LogTruncatedMidEventIsRefusedAndNothingIsExtended) {
  const std::string whole = ReadText(testdata::FixturePath(kFixture));
  ASSERT_GT(whole.size(), 100u);
  // 40 bytes short: inside the last event (an EV_SEPARATOR's digests or data).
  const std::string truncated = files_.File("truncated.bin");
  WriteText(truncated, whole.substr(0, whole.size() - 40));
  CommandResult result = Replay(truncated);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.err.rfind("attest-swtpm-boot: " + truncated + ": byte offset ", 0), 0u)
      << result.err;
  EXPECT_EQ(result.out, "");
  ExpectAtReset(ReadAll(kAllPcrs));
}

TEST_F(SwtpmBootToolTest, LogWhosePcr0DoesNotStartAtZerosIsRefused) {
  SyntheticLog log = verifier::test::UefiBoot({});
  SyntheticLog with_locality = log;
  Bytes locality_data = ToBytes(std::string_view("StartupLocality\0\x03", 17));
  LogEvent locality{0, verifier::kEvNoAction, {}, locality_data};
  for (std::uint16_t bank : log.banks) {
    locality.digests[bank] = Bytes(tpm::HashAlgorithmById(bank)->digest_size, 0);
  }
  with_locality.events.insert(with_locality.events.begin(), locality);
  SyntheticLog with_hcrtm = log;
  with_hcrtm.MeasureData(0, verifier::kEvEfiHcrtmEvent, ToBytes(std::string_view("HCRTM")));

  const std::string locality_path = files_.File("locality.bin");
  const std::string hcrtm_path = files_.File("hcrtm.bin");
  WriteText(locality_path, std::string(AsText(with_locality.Serialize())));
  WriteText(hcrtm_path, std::string(AsText(with_hcrtm.Serialize())));

  CommandResult locality_result = Replay(locality_path);
  EXPECT_EQ(locality_result.exit_code, 2) << locality_result.err;
  EXPECT_NE(locality_result.err.find("StartupLocality event (locality 3)"), std::string::npos)
      << locality_result.err;
  CommandResult hcrtm_result = Replay(hcrtm_path);
  EXPECT_EQ(hcrtm_result.exit_code, 2) << hcrtm_result.err;
  EXPECT_NE(hcrtm_result.err.find("H-CRTM event"), std::string::npos) << hcrtm_result.err;
  ExpectAtReset(ReadAll(kAllPcrs));

  // The same boot without those events replays: the refusal was theirs.
  const std::string plain_path = files_.File("plain.bin");
  WriteText(plain_path, std::string(AsText(log.Serialize())));
  CommandResult plain = Replay(plain_path);
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
}

// Banks: only those both have are extended; the TPM's others stay at reset.
class SwtpmBootToolBanksTest : public SwtpmBootToolTest {
 protected:
  SwtpmOptions Options() const override {
    return {.pcr_banks = "sha256,sha384", .create_ek_certificates = false};
  }
};

TEST_F(SwtpmBootToolBanksTest, ExtendsTheBanksTheLogAndTheTpmShare) {
  SyntheticLog log = verifier::test::UefiBoot({});  // sha1 and sha256
  const std::string path = files_.File("boot.bin");
  WriteText(path, std::string(AsText(log.Serialize())));
  CommandResult result = Replay(path);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("(sha256); the TPM's PCRs equal the log's replay"), std::string::npos)
      << result.out;
  EXPECT_EQ(result.err,
            "attest-swtpm-boot: the TPM's sha384 bank(s) are not in the log: left at their reset "
            "values\n");

  const Bytes bytes = log.Serialize();
  auto parsed = verifier::ParseEventLog(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  const tpm::PcrValues replayed = verifier::ReplayEventLog(*parsed);
  const tpm::PcrValues values = ReadAll("sha256:0-23+sha384:0-23");
  ASSERT_FALSE(replayed.at(TPM2_ALG_SHA256).empty());
  for (std::uint32_t pcr = 0; pcr < tpm::kPcrCount; ++pcr) {
    auto found = replayed.at(TPM2_ALG_SHA256).find(pcr);
    const Bytes want =
        found != replayed.at(TPM2_ALG_SHA256).end() ? found->second : tpm::PcrResetValue(pcr, 32);
    EXPECT_EQ(values.at(TPM2_ALG_SHA256).at(pcr), want) << "sha256 PCR " << pcr;
    EXPECT_EQ(values.at(TPM2_ALG_SHA384).at(pcr), tpm::PcrResetValue(pcr, 48))
        << "sha384 PCR " << pcr;
  }
}

}  // namespace
}  // namespace attest::test
