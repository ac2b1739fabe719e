// The boot log replayed into swtpm: the TPM holds what the log replays to,
// a quote over it verifies, and a log that differs by one digest byte names
// its PCR. The repository's fixture always, keylime's log when the shared
// set is present.
#include <string>

#include "verifier_swtpm_fixture.h"

namespace attest::test {
namespace {

using namespace verifier_swtpm;  // NOLINT(google-build-using-namespace): the suite's own fixture

// The boot log replayed into the TPM: the replay is what the TPM holds, a
// quote over it verifies, and a log that differs by one digest byte does not.
class BootLogReplayTest : public VerifierSwtpmTest,
                          public ::testing::WithParamInterface<BootLogFile> {
 protected:
  const BootLogFile& LogFile() const override { return GetParam(); }

  // The byte offset of the sha256 digest of the first event in `pcr` of
  // `type`.
  std::size_t DigestOffset(std::uint32_t pcr, std::uint32_t type) {
    auto log = verifier::ParseEventLog(boot_log_);
    EXPECT_TRUE(log.ok());
    if (!log.ok()) return 0;
    for (const BootEvent& event : log->events) {
      if (event.pcr != pcr || event.type != type) continue;
      const verifier::EventDigest* digest = event.digests.Find(TPM2_ALG_SHA256);
      EXPECT_NE(digest, nullptr);
      if (digest == nullptr) return 0;
      return static_cast<std::size_t>(digest->digest.data() - boot_log_.data());
    }
    ADD_FAILURE() << "no event of type " << type << " in PCR " << pcr;
    return 0;
  }
};

TEST_P(BootLogReplayTest, ReplayEqualsTheTpmAndOneAlteredDigestNamesItsPcr) {
  ExtendBootLog();
  ASSERT_FALSE(HasFatalFailure());
  auto values = tpm().ReadPcrs(selection_);
  ASSERT_TRUE(values.ok()) << values.error().ToString();
  const std::map<std::uint32_t, Bytes>& tpm_sha256 = values->at(TPM2_ALG_SHA256);

  // The verifier's replay of the log is what the TPM computed, PCR by PCR,
  // and what the log's curator recorded (.expected.json); the runtime PCR
  // is not in the log and still zero.
  auto log = verifier::ParseEventLog(boot_log_);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  const tpm::PcrValues replay = verifier::ReplayEventLog(*log);
  ASSERT_EQ(replay.size(), LogFile().banks);  // swtpm's sha256 bank is the one quoted
  std::vector<std::uint32_t> replayed_pcrs;
  for (const auto& [pcr, value] : replay.at(TPM2_ALG_SHA256)) replayed_pcrs.push_back(pcr);
  EXPECT_EQ(replayed_pcrs, std::vector<std::uint32_t>(std::begin(kBootPcrs), std::end(kBootPcrs)));
  auto expected = ParseJsonStrict(ReadText(PathOf(LogFile()) + ".expected.json"));
  ASSERT_TRUE(expected.ok()) << expected.error().ToString();
  const Json& expected_sha256 = (*expected)["expected_pcrs"]["sha256"];
  ASSERT_EQ(expected_sha256.size(), std::size(kBootPcrs));
  for (std::uint32_t pcr : kBootPcrs) {
    EXPECT_EQ(replay.at(TPM2_ALG_SHA256).at(pcr), tpm_sha256.at(pcr)) << pcr;
    EXPECT_EQ(HexEncode(tpm_sha256.at(pcr)),
              expected_sha256.at(std::to_string(pcr)).get<std::string>())
        << pcr;
  }
  EXPECT_EQ(tpm_sha256.at(kRuntimePcr), Bytes(32, 0));

  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(ak.ok()) << ak.error().ToString();
  auto quote = tpm().MakeQuote(*ak, nonce_, selection_);
  ASSERT_TRUE(quote.ok()) << quote.error().ToString();
  EXPECT_EQ(quote->pcrs, *values);
  auto key = verifier::ParseAttestationKey(ak->public_area);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  const Evidence good = MakeEvidence(quote->attest, quote->signature, quote->pcrs);
  const Policy policy = LearnedPolicy(good, *key);
  ASSERT_FALSE(HasFailure());
  // The log's four EFI applications (all in PCR 4) became the policy's
  // allowed boot applications.
  ASSERT_TRUE(policy.boot.allowed_boot_applications.has_value());

  Verdict verdict = Verify(good, *key, policy, nonce_);
  EXPECT_TRUE(verdict.trusted) << Describe(verdict);
  EXPECT_EQ(Codes(verdict), CodeList{}) << Describe(verdict);
  // The verifier replays the banks the quote covers (sha256), no other.
  EXPECT_EQ(verdict.boot_replay, (tpm::PcrValues{{TPM2_ALG_SHA256, replay.at(TPM2_ALG_SHA256)}}));

  // One byte of PCR 4's EV_SEPARATOR digest: the log no longer replays to
  // the quoted PCR 4, so none of PCR 4's events can establish the boot
  // applications.
  {
    Evidence altered = good;
    altered.boot_log->at(DigestOffset(4, verifier::kEvSeparator)) ^= 0x01;
    Verdict bad = Verify(altered, *key, policy, nonce_);
    EXPECT_FALSE(bad.trusted);
    ASSERT_EQ(Codes(bad), (CodeList{"BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}))
        << Describe(bad);
    EXPECT_EQ(bad.reasons[0].pcr, 4u);
    EXPECT_EQ(bad.reasons[0].detail.rfind("PCR 4 (sha256) replays to ", 0), 0u)
        << bad.reasons[0].detail;
    EXPECT_NE(bad.reasons[0].detail.find(HexEncode(tpm_sha256.at(4))), std::string::npos)
        << bad.reasons[0].detail;
  }
  // One byte of the first EFI application's digest in PCR 4: the replay
  // breaks the same way.
  {
    Evidence altered = good;
    altered.boot_log->at(DigestOffset(4, verifier::kEvEfiBootServicesApplication)) ^= 0x01;
    Verdict bad = Verify(altered, *key, policy, nonce_);
    ASSERT_EQ(Codes(bad), (CodeList{"BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}))
        << Describe(bad);
    EXPECT_EQ(bad.reasons[0].pcr, 4u);
    EXPECT_EQ(bad.reasons[1].pcr, 4u);
  }
  // No boot log at all: nothing explains the quoted boot PCRs, and the
  // policy's boot application rule has no events to apply to.
  {
    Evidence without = good;
    without.boot_log.reset();
    Verdict bad = Verify(without, *key, policy, nonce_);
    EXPECT_EQ(Codes(bad), (CodeList{"BOOT_LOG_REQUIRED", "BOOT_POLICY_VIOLATION"}))
        << Describe(bad);
  }
}

std::string LogName(const ::testing::TestParamInfo<BootLogFile>& info) { return info.param.name; }

// The repository's fixture always; keylime's log skips, naming the
// variable, when the shared set is missing.
INSTANTIATE_TEST_SUITE_P(Logs, BootLogReplayTest, ::testing::Values(kFixtureLog, kKeylimeLog),
                         LogName);

}  // namespace
}  // namespace attest::test
