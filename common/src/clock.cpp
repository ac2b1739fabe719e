#include "attest/clock.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace attest {

std::string FormatRfc3339Utc(TimePoint time) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  using std::chrono::seconds;
  auto since_epoch = duration_cast<microseconds>(time.time_since_epoch());
  auto whole_seconds = duration_cast<seconds>(since_epoch);
  auto micros = (since_epoch - whole_seconds).count();
  if (micros < 0) {  // times before 1970 round toward the earlier second
    micros += 1000000;
    whole_seconds -= seconds(1);
  }
  std::time_t t = whole_seconds.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::array<char, 64> buffer{};
  (void)std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
                      utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                      utc.tm_sec, static_cast<long>(micros));
  return buffer.data();
}

std::string FormatRfc3339UtcSeconds(std::int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::array<char, 32> buffer{};
  (void)std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer.data();
}

std::int64_t UnixSeconds(TimePoint time) {
  return std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
}

bool IsRfc3339Utc(std::string_view text) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kShape.size() + 1 || text.back() != 'Z') return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    bool digit = std::isdigit(static_cast<unsigned char>(text[i])) != 0;
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return false;
  }
  std::string_view fraction = text.substr(kShape.size(), text.size() - kShape.size() - 1);
  if (fraction.empty()) return true;
  if (fraction.front() != '.' || fraction.size() < 2 || fraction.size() > 10) return false;
  return std::ranges::all_of(
      fraction.substr(1), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

std::optional<TimePoint> ParseRfc3339Utc(std::string_view text) {
  if (!IsRfc3339Utc(text)) return std::nullopt;
  auto number = [&](std::size_t at, std::size_t digits) {
    int value = 0;
    for (std::size_t i = at; i < at + digits; ++i) value = value * 10 + (text[i] - '0');
    return value;
  };
  std::tm utc{};
  utc.tm_year = number(0, 4) - 1900;
  utc.tm_mon = number(5, 2) - 1;
  utc.tm_mday = number(8, 2);
  utc.tm_hour = number(11, 2);
  utc.tm_min = number(14, 2);
  utc.tm_sec = number(17, 2);
  if (utc.tm_mon > 11 || utc.tm_mday < 1 || utc.tm_mday > 31 || utc.tm_hour > 23 ||
      utc.tm_min > 59 || utc.tm_sec > 60) {
    return std::nullopt;
  }
  std::tm normalized = utc;
  std::time_t seconds = timegm(&normalized);
  // timegm normalizes (February 30 becomes March 2): such a date is invalid.
  if (normalized.tm_mday != utc.tm_mday || normalized.tm_mon != utc.tm_mon) return std::nullopt;
  std::int64_t nanos = 0;
  std::string_view fraction = text.substr(19, text.size() - 20);
  for (std::size_t i = 0; i < 9; ++i) {
    nanos = nanos * 10 + (i + 1 < fraction.size() ? fraction[i + 1] - '0' : 0);
  }
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
}

}  // namespace attest
