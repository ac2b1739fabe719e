#include "attest/clock.h"

#include <algorithm>
#include <array>
#include <cctype>
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

}  // namespace attest
