// Incremental evidence in the verification core: the verified boot state a
// trusted verdict yields stands in for the boot log only for a quote of the
// same boot whose boot PCRs are exactly the cached values; any other case is
// BOOT_LOG_REQUIRED. Real boot log fixture, quotes signed in software.
#include <gtest/gtest.h>

#include "attest/verifier/verify.h"

#include "evidence_factory.h"

namespace attest::verifier {
namespace {

bool Has(const Verdict& verdict, ReasonCode code) {
  for (const Reason& reason : verdict.reasons) {
    if (reason.code == code) return true;
  }
  return false;
}

class CachedBootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    boot_log_ = test::ReadFixture("eventlogs/ovmf-sb-on.bin");
    selection_ = tpm::ParsePcrSelection("sha256:0-9,14,15").value();
    Evidence full = Make(boot_log_, test::SafeClock());
    key_ = factory_.LoadedKey();
    policy_ = test::PolicyFor(full, key_);
    policy_.boot.secure_boot_required = true;
    Verdict verdict = Run(full, nullptr);
    ASSERT_TRUE(verdict.trusted) << VerdictToJson(verdict).dump(2);
    ASSERT_TRUE(verdict.verified_boot);
    EXPECT_FALSE(verdict.boot_from_cache);
    state_ = *verdict.verified_boot;
  }

  Evidence Make(const Bytes& boot_log, const QuoteClock& clock, std::size_t runtime_entries = 5) {
    return factory_.Make(selection_, boot_log, test::ExampleRuntimeLog(runtime_entries), nonce_,
                         clock);
  }

  // A quote of the same boot's PCRs, the boot log left out.
  Evidence WithoutLog(const QuoteClock& clock) {
    Evidence evidence = Make(boot_log_, clock);
    evidence.boot_log.reset();
    return evidence;
  }

  Verdict Run(const Evidence& evidence, const VerifiedBootState* cached) {
    VerificationInput input{evidence, key_, policy_, nonce_, std::nullopt};
    input.cached_boot = cached;
    return VerifyEvidence(input);
  }

  test::EvidenceFactory factory_;
  Bytes boot_log_;
  tpm::PcrSelection selection_;
  Bytes nonce_ = Bytes(32, 0x11);
  AttestationKey key_;
  Policy policy_;
  VerifiedBootState state_;
};

TEST_F(CachedBootTest, SameBootWithoutLogIsTrustedOnTheCachedFacts) {
  Evidence incremental = WithoutLog(test::SafeClock());
  Verdict verdict = Run(incremental, &state_);
  EXPECT_TRUE(verdict.trusted) << VerdictToJson(verdict).dump(2);
  EXPECT_TRUE(verdict.boot_from_cache);
  ASSERT_TRUE(verdict.boot_facts);
  EXPECT_EQ(verdict.boot_facts->secure_boot, std::optional<bool>(true));
  // The runtime log still replays on the cached firmware value.
  ASSERT_TRUE(verdict.runtime_pcr_firmware_value);
  EXPECT_EQ(*verdict.runtime_pcr_firmware_value, state_.runtime_pcr_firmware_value);
}

TEST_F(CachedBootTest, WithoutCacheNoLogIsBootLogRequired) {
  Verdict verdict = Run(WithoutLog(test::SafeClock()), nullptr);
  EXPECT_FALSE(verdict.trusted);
  EXPECT_TRUE(Has(verdict, ReasonCode::kBootLogRequired));
}

TEST_F(CachedBootTest, AnotherBootIsBootLogRequired) {
  Verdict rebooted = Run(WithoutLog(test::SafeClock(4)), &state_);
  EXPECT_FALSE(rebooted.trusted);
  EXPECT_TRUE(Has(rebooted, ReasonCode::kBootLogRequired));
  EXPECT_FALSE(rebooted.boot_from_cache);
  QuoteClock restarted = test::SafeClock();
  restarted.restart_count = 1;
  Verdict restart = Run(WithoutLog(restarted), &state_);
  EXPECT_TRUE(Has(restart, ReasonCode::kBootLogRequired));
}

// Same counters, but a boot PCR differs from the cached value: what the
// cache vouched for is not what the TPM holds.
TEST_F(CachedBootTest, ChangedBootPcrIsBootLogRequired) {
  VerifiedBootState changed = state_;
  changed.boot_pcrs[TPM2_ALG_SHA256][4][0] ^= 1;
  Verdict verdict = Run(WithoutLog(test::SafeClock()), &changed);
  EXPECT_FALSE(verdict.trusted);
  EXPECT_TRUE(Has(verdict, ReasonCode::kBootLogRequired));
  EXPECT_FALSE(verdict.boot_facts);
}

// A cache over other PCRs (one missing, or one the quote lacks) is refused.
TEST_F(CachedBootTest, CacheOfOtherPcrsIsBootLogRequired) {
  VerifiedBootState fewer = state_;
  fewer.boot_pcrs[TPM2_ALG_SHA256].erase(9);
  EXPECT_TRUE(Has(Run(WithoutLog(test::SafeClock()), &fewer), ReasonCode::kBootLogRequired));
  VerifiedBootState more = state_;
  more.boot_pcrs[TPM2_ALG_SHA256][16] = Bytes(32, 0);
  EXPECT_TRUE(Has(Run(WithoutLog(test::SafeClock()), &more), ReasonCode::kBootLogRequired));
}

TEST_F(CachedBootTest, CacheForAnotherRuntimePcrIsBootLogRequired) {
  VerifiedBootState other = state_;
  other.runtime_pcr = 14;
  EXPECT_TRUE(Has(Run(WithoutLog(test::SafeClock()), &other), ReasonCode::kBootLogRequired));
}

// The cache does not excuse the rest: a bad runtime log still fails.
// What the challenge asks before it tells a node it may omit its boot log:
// a policy that changed the quoted PCRs or the runtime PCR makes the cache
// useless.
TEST_F(CachedBootTest, ACacheFitsOnlyTheSelectionAndRuntimePcrItWasMadeFor) {
  EXPECT_TRUE(CachedBootFitsSelection(state_, selection_, 15));
  // PCR 10 (IMA) and the runtime PCR are never boot PCRs.
  EXPECT_TRUE(
      CachedBootFitsSelection(state_, tpm::ParsePcrSelection("sha256:0-10,14,15").value(), 15));
  EXPECT_FALSE(CachedBootFitsSelection(state_, selection_, 14));
  EXPECT_FALSE(
      CachedBootFitsSelection(state_, tpm::ParsePcrSelection("sha256:0-7,14,15").value(), 15));
  EXPECT_FALSE(
      CachedBootFitsSelection(state_, tpm::ParsePcrSelection("sha256:0-9,11,14,15").value(), 15));
  EXPECT_FALSE(
      CachedBootFitsSelection(state_, tpm::ParsePcrSelection("sha384:0-9,14,15").value(), 15));
}

TEST_F(CachedBootTest, CachedBootStillChecksTheRuntimeLog) {
  Evidence incremental = WithoutLog(test::SafeClock());
  incremental.runtime_log->entries.pop_back();
  Verdict verdict = Run(incremental, &state_);
  EXPECT_FALSE(verdict.trusted);
  EXPECT_TRUE(Has(verdict, ReasonCode::kRuntimeLogReplayMismatch));
  EXPECT_FALSE(Has(verdict, ReasonCode::kBootLogRequired));
}

TEST_F(CachedBootTest, StateRoundTripsThroughJson) {
  Json json = VerifiedBootStateToJson(state_);
  auto parsed = VerifiedBootStateFromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(VerifiedBootStateToJson(*parsed), json);
  EXPECT_EQ(parsed->boot_pcrs, state_.boot_pcrs);
  Verdict verdict = Run(WithoutLog(test::SafeClock()), &*parsed);
  EXPECT_TRUE(verdict.trusted);

  Json broken = json;
  broken["facts"].erase("secure_boot");
  auto refused = VerifiedBootStateFromJson(broken);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kCorrupt);
}

// A log that failed to replay yields no state to cache.
TEST_F(CachedBootTest, UnverifiedLogYieldsNothingToCache) {
  Evidence evidence = Make(boot_log_, test::SafeClock());
  evidence.pcrs[TPM2_ALG_SHA256][4][0] ^= 1;
  evidence.attest = factory_.MakeAttest(selection_, evidence.pcrs, nonce_, test::SafeClock());
  factory_.Resign(evidence);
  Verdict verdict = Run(evidence, nullptr);
  EXPECT_FALSE(verdict.trusted);
  EXPECT_FALSE(verdict.verified_boot);
}

}  // namespace
}  // namespace attest::verifier
