// Incremental evidence in the verification core, the runtime half: a
// runtime log sent from the cursor replays from the runtime PCR value a
// trusted verdict of the same boot verified, and the entries before the
// cursor are judged again under the policy in force. Any doubt is
// RUNTIME_LOG_REQUIRED. Real boot log fixture, quotes signed in software.
#include <vector>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/verifier/verify.h"

#include "evidence_factory.h"

namespace attest::verifier {
namespace {

bool HasReason(const Verdict& verdict, ReasonCode code) {
  for (const Reason& reason : verdict.reasons) {
    if (reason.code == code) return true;
  }
  return false;
}

std::vector<Reason> FailuresOf(const Verdict& verdict) {
  std::vector<Reason> failures;
  for (const Reason& reason : verdict.reasons) {
    if (!IsInformational(reason.code)) failures.push_back(reason);
  }
  return failures;
}

std::size_t Failures(const Verdict& verdict) { return FailuresOf(verdict).size(); }

// The node's runtime log: kBefore entries verified at the first
// attestation, kTotal measured by the time of the next.
constexpr std::size_t kBefore = 5;
constexpr std::size_t kTotal = 8;

class CachedRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    boot_log_ = test::ReadFixture("eventlogs/ovmf-sb-on.bin");
    selection_ = tpm::ParsePcrSelection("sha256:0-9,14,15").value();
    log_ = test::ExampleRuntimeLog(kTotal);
    key_ = factory_.LoadedKey();
    // The learned policy requires the first attestation's paths and
    // approves every file the node will measure.
    policy_ = test::PolicyFor(Full(Prefix(kBefore), test::SafeClock()), key_);
    for (const runtime::RuntimeEntry& entry : log_.entries) {
      policy_.runtime.allowed_digests.insert(entry.sha256);
    }
    Verdict first = Run(Full(Prefix(kBefore), test::SafeClock()), nullptr);
    ASSERT_TRUE(first.trusted) << VerdictToJson(first).dump(2);
    ASSERT_TRUE(first.verified_boot && first.verified_runtime);
    EXPECT_FALSE(first.runtime_from_cursor);
    boot_ = *first.verified_boot;
    runtime_ = *first.verified_runtime;
    ASSERT_EQ(runtime_.entries.size(), kBefore);
  }

  runtime::RuntimeLog Prefix(std::size_t count) const {
    runtime::RuntimeLog prefix = log_;
    prefix.entries.resize(count);
    return prefix;
  }

  // Evidence with the whole of `log` (and the boot log).
  Evidence Full(const runtime::RuntimeLog& log, const QuoteClock& clock) const {
    return factory_.Make(selection_, boot_log_, log, nonce_, clock);
  }

  // Evidence for the node whose runtime log is `log`, sending only the
  // entries after `start` and leaving out the boot log.
  Evidence FromCursor(const runtime::RuntimeLog& log, std::size_t start,
                      const QuoteClock& clock) const {
    Evidence evidence = Full(log, clock);
    evidence.boot_log.reset();
    evidence.runtime_log->entries.erase(
        evidence.runtime_log->entries.begin(),
        evidence.runtime_log->entries.begin() + static_cast<std::ptrdiff_t>(start));
    evidence.runtime_log_start = start;
    return evidence;
  }

  Verdict Run(const Evidence& evidence, const VerifiedRuntimeState* runtime,
              const Policy* policy = nullptr) const {
    VerificationInput input{evidence, key_, policy ? *policy : policy_, nonce_, std::nullopt};
    input.cached_boot = evidence.boot_log ? nullptr : &boot_;
    input.cached_runtime = runtime;
    return VerifyEvidence(input);
  }

  // A cursor refused: RUNTIME_LOG_REQUIRED is the only failure, and no
  // runtime entry was judged or kept.
  static void ExpectRequired(const Verdict& verdict) {
    EXPECT_FALSE(verdict.trusted);
    EXPECT_TRUE(HasReason(verdict, ReasonCode::kRuntimeLogRequired))
        << VerdictToJson(verdict).dump(2);
    EXPECT_EQ(Failures(verdict), 1u) << VerdictToJson(verdict).dump(2);
    EXPECT_FALSE(verdict.runtime_from_cursor);
    EXPECT_FALSE(verdict.verified_runtime);
  }

  test::EvidenceFactory factory_;
  Bytes boot_log_;
  tpm::PcrSelection selection_;
  runtime::RuntimeLog log_;
  Bytes nonce_ = Bytes(32, 0x22);
  AttestationKey key_;
  Policy policy_;
  VerifiedBootState boot_;
  VerifiedRuntimeState runtime_;
};

TEST_F(CachedRuntimeTest, CursorIsTrustedAndEqualsAFullResend) {
  Verdict incremental = Run(FromCursor(log_, kBefore, test::SafeClock()), &runtime_);
  Verdict full = Run(Full(log_, test::SafeClock()), nullptr);
  EXPECT_TRUE(incremental.trusted) << VerdictToJson(incremental).dump(2);
  EXPECT_TRUE(incremental.runtime_from_cursor);
  EXPECT_EQ(VerdictToJson(incremental), VerdictToJson(full));
  // What is kept for the next cursor is what the full log would leave.
  ASSERT_TRUE(incremental.verified_runtime && full.verified_runtime);
  EXPECT_EQ(VerifiedRuntimeStateToJson(*incremental.verified_runtime),
            VerifiedRuntimeStateToJson(*full.verified_runtime));
  EXPECT_EQ(incremental.verified_runtime->entries.size(), kTotal);
}

TEST_F(CachedRuntimeTest, NothingNewSinceTheCursorIsTrusted) {
  Verdict verdict = Run(FromCursor(Prefix(kBefore), kBefore, test::SafeClock()), &runtime_);
  EXPECT_TRUE(verdict.trusted) << VerdictToJson(verdict).dump(2);
  EXPECT_TRUE(verdict.runtime_from_cursor);
  ASSERT_TRUE(verdict.verified_runtime);
  EXPECT_EQ(VerifiedRuntimeStateToJson(*verdict.verified_runtime),
            VerifiedRuntimeStateToJson(runtime_));
}

// The same failing verdict as the full log: an unapproved file after the
// cursor is RUNTIME_NOT_APPROVED either way.
TEST_F(CachedRuntimeTest, AFailureAfterTheCursorEqualsTheFullLogs) {
  Policy stricter = policy_;
  stricter.runtime.allowed_digests.erase(log_.entries[kTotal - 1].sha256);
  Verdict incremental = Run(FromCursor(log_, kBefore, test::SafeClock()), &runtime_, &stricter);
  Verdict full = Run(Full(log_, test::SafeClock()), nullptr, &stricter);
  EXPECT_FALSE(incremental.trusted);
  EXPECT_TRUE(HasReason(incremental, ReasonCode::kRuntimeNotApproved));
  EXPECT_EQ(VerdictToJson(incremental), VerdictToJson(full));
}

// The soundness trap: an approval withdrawn after the entry was verified.
// The entry sits before the cursor, so the node never sends it again; the
// verifier's copy is judged under today's allowlist, as a full log would be.
TEST_F(CachedRuntimeTest, AnApprovalRevokedBeforeTheCursorMakesItUntrusted) {
  Policy revoked = policy_;
  const runtime::RuntimeEntry& early = log_.entries[1];
  ASSERT_EQ(revoked.runtime.allowed_digests.erase(early.sha256), 1u);
  Verdict incremental = Run(FromCursor(log_, kBefore, test::SafeClock()), &runtime_, &revoked);
  EXPECT_FALSE(incremental.trusted);
  EXPECT_TRUE(incremental.runtime_from_cursor);
  std::vector<Reason> failures = FailuresOf(incremental);
  ASSERT_EQ(failures.size(), 1u) << VerdictToJson(incremental).dump(2);
  EXPECT_EQ(failures[0].code, ReasonCode::kRuntimeNotApproved);
  EXPECT_EQ(failures[0].path, early.path);
  Verdict full = Run(Full(log_, test::SafeClock()), nullptr, &revoked);
  EXPECT_EQ(VerdictToJson(incremental), VerdictToJson(full));
}

// Required paths count the entries before the cursor: measured there, they
// are not missing.
TEST_F(CachedRuntimeTest, ARequiredPathBeforeTheCursorIsNotMissing) {
  Policy requiring = policy_;
  requiring.runtime.required_paths = {log_.entries[0].path, log_.entries[kTotal - 1].path};
  Verdict verdict = Run(FromCursor(log_, kBefore, test::SafeClock()), &runtime_, &requiring);
  EXPECT_TRUE(verdict.trusted) << VerdictToJson(verdict).dump(2);
  requiring.runtime.required_paths.push_back("/usr/bin/never-measured");
  verdict = Run(FromCursor(log_, kBefore, test::SafeClock()), &runtime_, &requiring);
  EXPECT_TRUE(HasReason(verdict, ReasonCode::kRuntimeMissing));
}

TEST_F(CachedRuntimeTest, WithTheBootLogSentTheCursorStillHolds) {
  Evidence evidence = FromCursor(log_, kBefore, test::SafeClock());
  evidence.boot_log = boot_log_;
  Verdict verdict = Run(evidence, &runtime_);
  EXPECT_TRUE(verdict.trusted) << VerdictToJson(verdict).dump(2);
  EXPECT_TRUE(verdict.runtime_from_cursor);
  EXPECT_FALSE(verdict.boot_from_cache);
}

TEST_F(CachedRuntimeTest, NoCacheIsRuntimeLogRequired) {
  ExpectRequired(Run(FromCursor(log_, kBefore, test::SafeClock()), nullptr));
}

// A cursor other than the verifier's: the node's count is wrong.
TEST_F(CachedRuntimeTest, AWrongCountIsRuntimeLogRequired) {
  ExpectRequired(Run(FromCursor(log_, kBefore - 1, test::SafeClock()), &runtime_));
  ExpectRequired(Run(FromCursor(log_, kBefore + 1, test::SafeClock()), &runtime_));
}

// The node's entries before the cursor are not the ones verified (its log
// was rewritten, or the verifier's copy is not this node's): the sent tail
// cannot replay from the verified value. A full resend then decides.
TEST_F(CachedRuntimeTest, EventsAlteredBeforeTheCursorAreRuntimeLogRequired) {
  runtime::RuntimeLog altered = log_;
  altered.entries[2].sha256 = log_.entries[3].sha256;
  ExpectRequired(Run(FromCursor(altered, kBefore, test::SafeClock()), &runtime_));
  Verdict resent = Run(Full(altered, test::SafeClock()), nullptr);
  EXPECT_FALSE(HasReason(resent, ReasonCode::kRuntimeLogRequired));
  EXPECT_TRUE(resent.trusted) << VerdictToJson(resent).dump(2);  // its digests are approved
}

// The verifier's copy altered but self-consistent (its entries replay to
// its value): the node's quote does not follow from it.
TEST_F(CachedRuntimeTest, AlteredCachedEntriesAreRuntimeLogRequired) {
  VerifiedRuntimeState altered = runtime_;
  altered.entries[0].sha256 = log_.entries[4].sha256;
  altered.pcr_value = runtime::Replay(altered.entries, altered.firmware_value);
  ExpectRequired(Run(FromCursor(log_, kBefore, test::SafeClock()), &altered));
}

// A cursor is never carried over from another boot, even with PCRs that
// would replay (a TPM reset gives the same values for the same events).
TEST_F(CachedRuntimeTest, AnotherBootIsRuntimeLogRequired) {
  Evidence rebooted = FromCursor(log_, kBefore, test::SafeClock(4));
  rebooted.boot_log = boot_log_;
  ExpectRequired(Run(rebooted, &runtime_));
  QuoteClock restarted = test::SafeClock();
  restarted.restart_count = 1;
  Evidence restart = FromCursor(log_, kBefore, restarted);
  restart.boot_log = boot_log_;
  ExpectRequired(Run(restart, &runtime_));
}

TEST_F(CachedRuntimeTest, AnotherRuntimePcrOrFirmwareStartIsRuntimeLogRequired) {
  VerifiedRuntimeState other_pcr = runtime_;
  other_pcr.runtime_pcr = 14;
  ExpectRequired(Run(FromCursor(log_, kBefore, test::SafeClock()), &other_pcr));
  VerifiedRuntimeState other_start = runtime_;
  other_start.firmware_value[0] ^= 1;
  other_start.pcr_value = runtime::Replay(other_start.entries, other_start.firmware_value);
  ExpectRequired(Run(FromCursor(log_, kBefore, test::SafeClock()), &other_start));
}

// Without the boot log and without a cached boot, nothing gives the runtime
// PCR's start: both logs are asked for.
TEST_F(CachedRuntimeTest, NoBootStateIsBothLogsRequired) {
  Evidence evidence = FromCursor(log_, kBefore, test::SafeClock());
  VerificationInput input{evidence, key_, policy_, nonce_, std::nullopt};
  input.cached_runtime = &runtime_;
  Verdict verdict = VerifyEvidence(input);
  EXPECT_TRUE(HasReason(verdict, ReasonCode::kBootLogRequired));
  EXPECT_TRUE(HasReason(verdict, ReasonCode::kRuntimeLogRequired));
  EXPECT_FALSE(verdict.runtime_from_cursor);
}

TEST_F(CachedRuntimeTest, ALogOverTheBoundIsNotKept) {
  runtime::RuntimeLog huge = test::ExampleRuntimeLog(kMaxCachedRuntimeEntries + 1);
  Policy policy = test::PolicyFor(Full(huge, test::SafeClock()), key_);
  Verdict verdict = Run(Full(huge, test::SafeClock()), nullptr, &policy);
  EXPECT_TRUE(verdict.trusted);
  EXPECT_FALSE(verdict.verified_runtime);
}

TEST_F(CachedRuntimeTest, TheStateRoundTripsAndIsCheckedWhenRead) {
  Json json = VerifiedRuntimeStateToJson(runtime_);
  Result<VerifiedRuntimeState> read = VerifiedRuntimeStateFromJson(json);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(VerifiedRuntimeStateToJson(*read), json);
  EXPECT_EQ(read->entries.size(), kBefore);

  Json inconsistent = json;
  inconsistent["entries"][0]["sha256"] = HexEncode(AsBytes(log_.entries[7].sha256));
  Result<VerifiedRuntimeState> bad = VerifiedRuntimeStateFromJson(inconsistent);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(bad.error().message.find("pcr_value"), std::string::npos) << bad.error().message;

  Json unknown = json;
  unknown["approved"] = true;
  EXPECT_FALSE(VerifiedRuntimeStateFromJson(unknown).ok());
  Json relative = json;
  relative["entries"][0]["path"] = "usr/bin/runc";
  EXPECT_FALSE(VerifiedRuntimeStateFromJson(relative).ok());
  Json too_many = json;
  too_many["entries"] = Json::array();
  for (std::size_t i = 0; i <= kMaxCachedRuntimeEntries; ++i) {
    too_many["entries"].push_back(json["entries"][0]);
  }
  Result<VerifiedRuntimeState> over = VerifiedRuntimeStateFromJson(too_many);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("more than"), std::string::npos) << over.error().message;
}

}  // namespace
}  // namespace attest::verifier
