// Reopening a connection that died (a database restart, a primary failover,
// a cut network), for the stores that must outlive one without a restart of
// their process. Attempts are spaced by a backoff (100 ms, doubling to 5 s)
// so an unreachable database is not hammered; between attempts the caller
// gets a connection-lost error at once, so a request fails fast rather than
// waiting out a connect timeout each time.
#pragma once

#include <chrono>
#include <string>

#include "attest/error.h"
#include "attest/pg/pg.h"

namespace attest::pg {

class Reconnector {
 public:
  Reconnector(std::string url, ConnectOptions options)
      : url_(std::move(url)), options_(std::move(options)) {}

  // OkStatus when `connection` is alive; else reopens it in place (the
  // object stays the same, so references to it stay valid), or returns a
  // connection-lost error (IsConnectionLost) saying when the next attempt is.
  Status Revive(Connection& connection);

  // Runs `body` on `connection` (revived first), and once more on a new
  // connection when the old one turns out dead at its first statement: a
  // connection the server closed while idle (a restart) fails only then.
  // Never after a COMMIT whose answer was lost (IsCommitOutcomeUnknown), so
  // `body` must be safe to run again when it failed on a lost connection:
  // a transaction (rolled back by the server), a read, or an idempotent
  // write.
  // Runs `body` once on `connection` (revived first): for a statement that
  // commits on its own and must not run twice, since its answer may be lost
  // after it committed.
  template <typename Body>
  auto RunOnce(Connection& connection, Body body) -> decltype(body(connection)) {
    if (Status alive = Revive(connection); !alive.ok()) return alive.error();
    return body(connection);
  }

  template <typename Body>
  auto Run(Connection& connection, Body body) -> decltype(body(connection)) {
    if (Status alive = Revive(connection); !alive.ok()) return alive.error();
    auto result = body(connection);
    if (result.ok() || !IsConnectionLost(result.error()) ||
        IsCommitOutcomeUnknown(result.error()) || connection.IsAlive()) {
      return result;
    }
    if (Status alive = Revive(connection); !alive.ok()) return result;
    return body(connection);
  }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  std::string url_;
  ConnectOptions options_;
  SteadyTime next_attempt_{};
  std::chrono::milliseconds delay_{0};
};

}  // namespace attest::pg
