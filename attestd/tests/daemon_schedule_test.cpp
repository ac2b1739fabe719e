// The daemon's schedule: backoff grows to its cap with full jitter, the
// interval gets up to `jitter` more, and a certificate is renewed at two
// thirds of its lifetime.
#include <gtest/gtest.h>

#include "attest/attestd/daemon.h"
#include "attest/attestd/node_certificate.h"
#include "attest/testing/test_support.h"

namespace attest::attestd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(DaemonScheduleTest, BackoffStaysWithinItsDoublingBoundAndTheCap) {
  std::mt19937_64 random(test::TestRandomSeed());
  for (unsigned failures = 1; failures < 40; ++failures) {
    milliseconds bound = seconds(1);
    for (unsigned i = 0; i < failures && bound < seconds(300); ++i) bound *= 2;
    bound = std::min<milliseconds>(bound, seconds(300));
    for (int draw = 0; draw < 50; ++draw) {
      const milliseconds delay = BackoffDelay(failures, seconds(1), seconds(300), random);
      EXPECT_GE(delay, seconds(1)) << failures;
      EXPECT_LE(delay, bound) << failures;
    }
  }
  // Jittered: many waits after the same failure count are not all equal.
  std::set<std::int64_t> seen;
  for (int draw = 0; draw < 20; ++draw) {
    seen.insert(BackoffDelay(6, seconds(1), seconds(300), random).count());
  }
  EXPECT_GT(seen.size(), 5u);
  // min == max: no jitter left.
  EXPECT_EQ(BackoffDelay(9, seconds(5), seconds(5), random), seconds(5));
}

TEST(DaemonScheduleTest, TheIntervalGetsUpToItsJitter) {
  std::mt19937_64 random(test::TestRandomSeed());
  std::set<std::int64_t> seen;
  for (int draw = 0; draw < 100; ++draw) {
    const milliseconds wait = NextInterval(seconds(60), seconds(10), random);
    EXPECT_GE(wait, seconds(60));
    EXPECT_LE(wait, seconds(70));
    seen.insert(wait.count());
  }
  EXPECT_GT(seen.size(), 10u);
  EXPECT_EQ(NextInterval(seconds(60), seconds(0), random), seconds(60));
}

TEST(DaemonScheduleTest, RenewalIsDueWithoutACertificateForAnotherKeyOrAfterTwoThirds) {
  const Bytes key = {1, 2, 3};
  InstalledCertificate certificate;
  certificate.not_before = 1'000;
  certificate.not_after = 1'000 + 3'600;
  certificate.public_key_der = key;
  EXPECT_TRUE(NeedsRenewal(std::nullopt, key, 1'500));
  EXPECT_FALSE(NeedsRenewal(certificate, key, 1'000));
  EXPECT_FALSE(NeedsRenewal(certificate, key, 1'000 + 2'399));
  EXPECT_TRUE(NeedsRenewal(certificate, key, 1'000 + 2'400));
  EXPECT_TRUE(NeedsRenewal(certificate, Bytes{1, 2, 4}, 1'500));
  certificate.not_after = certificate.not_before;  // no lifetime at all
  EXPECT_TRUE(NeedsRenewal(certificate, key, 1'000));
}

// The verifier's CA backdates notBefore by 60 s. A 20 s certificate
// installed at 1000 is due at 1000 + 13, not at once (counted from
// notBefore it would be due 7 s before it arrived, and renewed every cycle).
TEST(DaemonScheduleTest, RenewalCountsTheLifetimeFromTheInstallationNotABackdatedNotBefore) {
  const Bytes key = {1, 2, 3};
  InstalledCertificate certificate;
  certificate.not_before = 1'000 - 60;
  certificate.not_after = 1'000 + 20;
  certificate.installed_at = 1'000;
  certificate.public_key_der = key;
  EXPECT_EQ(RenewalTime(certificate), 1'000 + 13);
  EXPECT_FALSE(NeedsRenewal(certificate, key, 1'000));
  EXPECT_FALSE(NeedsRenewal(certificate, key, 1'000 + 12));
  EXPECT_TRUE(NeedsRenewal(certificate, key, 1'000 + 13));
  // An installation time outside the validity is clamped to it.
  certificate.installed_at = 0;
  EXPECT_EQ(RenewalTime(certificate), 1'000 - 60 + 53);
  certificate.installed_at = 5'000;
  EXPECT_EQ(RenewalTime(certificate), 1'000 + 20);
}

}  // namespace
}  // namespace attest::attestd
