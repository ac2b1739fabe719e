// Time as an injected dependency: production code reads a Clock&, tests pass
// a clock they control.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace attest {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// RFC 3339 in UTC with microseconds: "2026-11-22T09:22:00.123456Z".
std::string FormatRfc3339Utc(TimePoint time);
// The same to the second, for people: "2026-11-22T09:22:00Z".
std::string FormatRfc3339UtcSeconds(std::int64_t unix_seconds);
// Whole seconds since the epoch (toward the earlier second).
std::int64_t UnixSeconds(TimePoint time);
// True for the shape FormatRfc3339Utc writes: "2026-11-22T09:22:00Z" with
// 0 to 9 fraction digits. The shape only; the date is not validated.
bool IsRfc3339Utc(std::string_view text);
// The time such a text names (fraction digits beyond nanoseconds dropped);
// nullopt for a text of another shape or a date that does not exist.
std::optional<TimePoint> ParseRfc3339Utc(std::string_view text);

}  // namespace attest
