// RFC 3339 UTC both ways: what FormatRfc3339Utc writes parses back to the
// same time, and texts that name no time are refused.
#include "attest/clock.h"

#include <chrono>

#include <gtest/gtest.h>

namespace attest {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ClockTest, FormattedTimesParseBack) {
  TimePoint time = TimePoint(seconds(1795000000) + microseconds(123456));
  std::string text = FormatRfc3339Utc(time);
  EXPECT_EQ(text, "2026-11-18T11:06:40.123456Z");
  EXPECT_EQ(ParseRfc3339Utc(text), time);
}

TEST(ClockTest, FractionDigitsAreOptionalAndOrdered) {
  TimePoint whole = *ParseRfc3339Utc("2026-11-18T11:06:40Z");
  EXPECT_EQ(whole, TimePoint(seconds(1795000000)));
  EXPECT_EQ(*ParseRfc3339Utc("2026-11-18T11:06:40.5Z") - whole,
            std::chrono::duration_cast<TimePoint::duration>(nanoseconds(500000000)));
  EXPECT_LT(*ParseRfc3339Utc("2026-11-18T11:06:40.09Z"),
            *ParseRfc3339Utc("2026-11-18T11:06:40.1Z"));
  EXPECT_EQ(ParseRfc3339Utc("2024-02-29T00:00:00Z"), TimePoint(seconds(1709164800)));
}

TEST(ClockTest, TextsThatNameNoTimeAreRefused) {
  for (const char* text : {"2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-18T24:00:00Z",
                           "2026-11-18T11:06:40", "2026-11-18 11:06:40Z", "2026-11-18T11:06:40.Z",
                           "2026-11-18T11:06:40+01:00", ""}) {
    EXPECT_FALSE(ParseRfc3339Utc(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace attest
