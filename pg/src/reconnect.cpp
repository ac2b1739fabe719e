#include "attest/pg/reconnect.h"

#include <algorithm>

namespace attest::pg {
namespace {

constexpr std::chrono::milliseconds kFirstDelay{100};
constexpr std::chrono::milliseconds kMaxDelay{5000};
constexpr int kReviveConnectSeconds = 3;

}  // namespace

Status Reconnector::Revive(Connection& connection) {
  if (connection.IsAlive()) return OkStatus();
  const SteadyTime now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
    Error error = MakeError(
        ErrorCode::kIo, "the database connection is lost; the next attempt to reconnect is in " +
                            std::to_string(wait.count()) + " ms");
    error.sqlstate = "08006";  // connection_failure: IsConnectionLost
    return error;
  }
  // A short connect timeout: the caller (a request) waits for it.
  ConnectOptions options = options_;
  options.connect_timeout_seconds =
      std::min(options.connect_timeout_seconds, kReviveConnectSeconds);
  Result<Connection> fresh = Connection::Open(url_, options);
  if (!fresh.ok()) {
    delay_ = delay_.count() == 0 ? kFirstDelay : std::min(kMaxDelay, delay_ * 2);
    next_attempt_ = now + delay_;
    return fresh.error().WithContext("reconnect");
  }
  connection = std::move(fresh).value();
  delay_ = std::chrono::milliseconds(0);
  next_attempt_ = {};
  return OkStatus();
}

}  // namespace attest::pg
