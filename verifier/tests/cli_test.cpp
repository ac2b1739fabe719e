// The `verifier` CLI in-process: exit codes 0/1/2, JSON output, and errors
// that name the file.
#include "cli/cli.h"

#include <sstream>

#include <gtest/gtest.h>

#include "attest/file.h"
#include "attest/testdata.h"
#include "attest/testing/test_support.h"

#include "evidence_factory.h"

namespace attest::verifier {
namespace {

struct Output {
  int code;
  std::string out;
  std::string err;
};

Output RunCli(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = cli::Run(args, out, err);
  return {code, out.str(), err.str()};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Evidence evidence =
        factory_.Make(tpm::ParsePcrSelection("sha256:0-9,14,15").value(),
                      test::ReadFixture("eventlogs/ovmf-sb-on.bin"), test::ExampleRuntimeLog(4),
                      Bytes(32, 0xab), test::SafeClock());
    Write("evidence.json", EvidenceToJson(evidence).value().dump());
    Write("ak.pub", std::string(AsText(factory_.MarshaledPublic())));
    Write("ak.pem", factory_.PublicPem());
  }
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomically(dir_.File(name), text, 0600).ok());
  }
  std::string File(const std::string& name) { return dir_.File(name); }

  attest::test::TempDir dir_{"verifier_cli"};
  test::EvidenceFactory factory_;
};

TEST_F(CliTest, LearnThenCheckIsTrustedWithEitherKeyForm) {
  Output learned = RunCli({"policy", "learn", "--evidence", File("evidence.json"), "--ak",
                           File("ak.pub"), "--out", File("policy.json"), "--name", "lab"});
  ASSERT_EQ(learned.code, 0) << learned.err;
  std::string nonce;
  for (int i = 0; i < 32; ++i) nonce += "ab";
  for (const char* key : {"ak.pub", "ak.pem"}) {
    bool pem = std::string(key) == "ak.pem";
    std::vector<std::string> key_flags = {"--ak", File(key)};
    if (pem) key_flags.push_back("--allow-bare-ak");
    auto check = [&](std::vector<std::string> args) {
      args.insert(args.begin(), key_flags.begin(), key_flags.end());
      args.insert(args.begin(), "check");
      return RunCli(args);
    };
    Output good = check(
        {"--evidence", File("evidence.json"), "--policy", File("policy.json"), "--nonce", nonce});
    EXPECT_EQ(good.code, 0) << good.out << good.err;
    Json verdict = Json::parse(good.out);
    EXPECT_TRUE(verdict["trusted"].get<bool>());
    EXPECT_TRUE(verdict["nonce_checked"].get<bool>());
    EXPECT_EQ(verdict["ak_attributes_checked"].get<bool>(), !pem);

    Output stale = check({"--evidence", File("evidence.json"), "--policy", File("policy.json"),
                          "--nonce", std::string(64, 'a')});
    EXPECT_EQ(stale.code, 1) << stale.out;
    verdict = Json::parse(stale.out);
    EXPECT_FALSE(verdict["trusted"].get<bool>());
    EXPECT_EQ(verdict["reasons"][0]["code"], "NONCE_MISMATCH");
  }
}

TEST_F(CliTest, CheckWithoutNonceWarnsThatFreshnessIsUnchecked) {
  ASSERT_EQ(RunCli({"policy", "learn", "--evidence", File("evidence.json"), "--ak", File("ak.pub"),
                    "--out", File("policy.json")})
                .code,
            0);
  // Hole 6: no nonce, no trust...
  Output checked = RunCli({"check", "--evidence", File("evidence.json"), "--ak", File("ak.pub"),
                           "--policy", File("policy.json")});
  EXPECT_EQ(checked.code, 1) << checked.out << checked.err;
  Json verdict = Json::parse(checked.out);
  EXPECT_FALSE(verdict["trusted"].get<bool>());
  EXPECT_FALSE(verdict["nonce_checked"].get<bool>());
  ASSERT_EQ(verdict["reasons"].size(), 1u);
  EXPECT_EQ(verdict["reasons"][0]["code"], "NONCE_NOT_CHECKED");
  // ...unless the operator says so, and the verdict keeps saying it.
  Output waived = RunCli({"check", "--evidence", File("evidence.json"), "--ak", File("ak.pub"),
                          "--policy", File("policy.json"), "--no-nonce"});
  EXPECT_EQ(waived.code, 0) << waived.out << waived.err;
  EXPECT_NE(waived.err.find("freshness is not checked"), std::string::npos);
  EXPECT_FALSE(Json::parse(waived.out)["nonce_checked"].get<bool>());
  Output both = RunCli({"check", "--evidence", File("evidence.json"), "--ak", File("ak.pub"),
                        "--policy", File("policy.json"), "--no-nonce", "--nonce", "ab"});
  EXPECT_EQ(both.code, 2);
}

// Hole 5: a bare public key carries no AK attributes; only an explicit
// operator flag accepts one.
TEST_F(CliTest, PemAttestationKeyNeedsTheOperatorsFlag) {
  Output learned = RunCli({"policy", "learn", "--evidence", File("evidence.json"), "--ak",
                           File("ak.pem"), "--out", File("policy.json")});
  EXPECT_EQ(learned.code, 2);
  EXPECT_NE(learned.err.find("--allow-bare-ak"), std::string::npos) << learned.err;
  EXPECT_NE(learned.err.find(File("ak.pem")), std::string::npos) << learned.err;
  ASSERT_EQ(RunCli({"policy", "learn", "--evidence", File("evidence.json"), "--ak", File("ak.pem"),
                    "--allow-bare-ak", "--out", File("policy.json")})
                .code,
            0);
  Output refused = RunCli({"check", "--evidence", File("evidence.json"), "--ak", File("ak.pem"),
                           "--policy", File("policy.json"), "--no-nonce"});
  EXPECT_EQ(refused.code, 2);
  EXPECT_TRUE(refused.out.empty());
}

TEST_F(CliTest, LearnRefusesEvidenceThatDoesNotVerify) {
  test::EvidenceFactory other;
  Write("other.pub", std::string(AsText(other.MarshaledPublic())));
  Output learned =
      RunCli({"policy", "learn", "--evidence", File("evidence.json"), "--ak", File("other.pub")});
  EXPECT_EQ(learned.code, 1);
  EXPECT_NE(learned.err.find("SIGNATURE_INVALID"), std::string::npos);
  EXPECT_TRUE(learned.out.empty());
}

TEST_F(CliTest, BadInputIsExitTwoNamingTheFile) {
  Write("policy.json", "{\"version\": 1}");
  Output no_policy = RunCli({"check", "--evidence", File("evidence.json"), "--ak", File("ak.pub"),
                             "--policy", File("policy.json")});
  EXPECT_EQ(no_policy.code, 2);
  EXPECT_NE(no_policy.err.find(File("policy.json") + ": pcr_selection: missing"), std::string::npos)
      << no_policy.err;

  Write("garbage.pub", "not a key");
  Output bad_key = RunCli({"check", "--evidence", File("evidence.json"), "--ak",
                           File("garbage.pub"), "--policy", File("policy.json")});
  EXPECT_EQ(bad_key.code, 2);
  EXPECT_NE(bad_key.err.find("garbage.pub"), std::string::npos);

  Output missing = RunCli({"check", "--evidence", File("nope.json"), "--ak", File("ak.pub"),
                           "--policy", File("policy.json")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos);

  EXPECT_EQ(RunCli({"check", "--evidence", File("evidence.json")}).code, 2);
  EXPECT_EQ(RunCli({"frobnicate"}).code, 2);
  EXPECT_EQ(RunCli({}).code, 2);
  EXPECT_EQ(RunCli({"--help"}).code, 0);
}

// The repository's fixtures: the CLI replays them to the PCRs read inside
// the guest (the sidecars' expected_pcrs).
TEST_F(CliTest, FixtureLogsReplayToTheGuestsPcrs) {
  Json sidecar = Json::parse(AsText(test::ReadFixture("eventlogs/ovmf-sb-on.bin.expected.json")));
  Output shown = RunCli({"eventlog", test::FixturePath("eventlogs/ovmf-sb-on.bin"), "--json"});
  ASSERT_EQ(shown.code, 0) << shown.err;
  Json json = Json::parse(shown.out);
  EXPECT_EQ(json["events"].size(), sidecar["event_count"].get<std::size_t>());
  EXPECT_EQ(json["pcrs"], sidecar["expected_pcrs"]);

  Json ima_sidecar = Json::parse(AsText(test::ReadFixture("ima/ovmf-sb-on.txt.expected.json")));
  Output ima = RunCli({"imalog", test::FixturePath("ima/ovmf-sb-on.txt"), "--json"});
  ASSERT_EQ(ima.code, 0) << ima.err;
  Json ima_json = Json::parse(ima.out);
  EXPECT_EQ(ima_json["entries"].size(), ima_sidecar["records"].get<std::size_t>());
  EXPECT_EQ(ima_json["pcrs"]["sha256"]["10"], ima_sidecar["expected_pcrs"]["sha256"]["10"]);
}

TEST_F(CliTest, EventLogJsonHasEventsAndReplayedPcrs) {
  ATTEST_NEED_SHARED_TESTDATA();
  Output shown =
      RunCli({"eventlog", test::TestdataPath("eventlogs/tpm2tools_event.bin"), "--json"});
  ASSERT_EQ(shown.code, 0) << shown.err;
  Json json = Json::parse(shown.out);
  EXPECT_EQ(json["events"].size(), 2u);
  EXPECT_EQ(json["events"][1]["type"], "EV_EFI_PLATFORM_FIRMWARE_BLOB");
  EXPECT_EQ(json["pcrs"]["sha256"]["0"],
            "118bdc4043596f8d6b7813438131959961f6abba29bab0075d16ca39664f5862");
  Output text = RunCli({"eventlog", test::TestdataPath("eventlogs/tpm2tools_event.bin")});
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("118bdc4043596f8d6b7813438131959961f6abba29bab0075d16ca39664f5862"),
            std::string::npos);
}

TEST_F(CliTest, MalformedEventLogIsExitTwoWithTheOffset) {
  ATTEST_NEED_SHARED_TESTDATA();
  Output shown =
      RunCli({"eventlog", test::TestdataPath("eventlogs/tpm2tools_specid-vendordata.bin")});
  EXPECT_EQ(shown.code, 2);
  EXPECT_NE(shown.err.find("byte offset 68"), std::string::npos) << shown.err;
  EXPECT_TRUE(shown.out.empty());
}

TEST_F(CliTest, ImaLogJsonAndMalformedList) {
  ATTEST_NEED_SHARED_TESTDATA();
  Output shown = RunCli({"imalog", test::TestdataPath("ima/rustkeylime_ima_log.txt"), "--json"});
  ASSERT_EQ(shown.code, 0) << shown.err;
  Json json = Json::parse(shown.out);
  EXPECT_EQ(json["entries"].size(), 1u);
  EXPECT_TRUE(json["pcrs"]["sha256"].contains("10"));
  Output bad = RunCli({"imalog", test::TestdataPath("ima/rustkeylime_invalid_ima_log.txt")});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("line 1"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace attest::verifier
