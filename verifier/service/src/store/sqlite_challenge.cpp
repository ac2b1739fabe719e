// The challenges' bodies (store.h RedeemChallenge, PruneChallenges), each
// run inside the writer's transaction. Times are the database's: SQLite's
// clock is the host's, read by SQL so that the PostgreSQL store can do the
// same with now().
#include <algorithm>
#include <chrono>
#include <string>

#include "src/store/fields.h"
#include "src/store/sqlite_internal.h"

namespace attest::service::internal {

Result<std::int64_t> SqliteDatabaseNow(Connection& writer) {
  // Millisecond resolution.
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * now,
      writer.Prepared("SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"));
  ResetOnExit reset(*now);
  ATTEST_ASSIGN_OR_RETURN(bool has_row, now->Step());
  if (!has_row || now->ColumnInt64(0) <= 0) {
    return MakeError(ErrorCode::kInternal, "service database: the clock reads before 1970");
  }
  return now->ColumnInt64(0);
}

namespace {

// Answers of nonces expiring before this were pruned (0 before any).
Result<std::int64_t> PrunedBefore(Connection& writer) {
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * read,
      writer.Prepared("SELECT pruned_before FROM answered_challenges_horizon WHERE id = 1"));
  ResetOnExit reset(*read);
  ATTEST_ASSIGN_OR_RETURN(bool has_row, read->Step());
  return has_row ? read->ColumnInt64(0) : 0;
}

}  // namespace

Result<ChallengeRedemption> ApplyRedeemChallenge(Connection& writer, std::string_view node_id,
                                                 ByteView nonce, TimePoint expires_at) {
  ATTEST_RETURN_IF_ERROR(CheckChallengeRedemption(node_id, nonce, expires_at));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now, SqliteDatabaseNow(writer));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t expiry, TimeToMicros(expires_at, "expires_at"));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t horizon, PrunedBefore(writer));
  // Before the pruning horizon, its answer may be gone whatever the clock
  // reads now (should it have stepped back).
  if (expiry <= std::max(now, horizon)) return ChallengeRedemption::kExpired;
  // The primary key decides: a second redemption inserts nothing.
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * redeem,
      writer.Prepared("INSERT INTO answered_challenges(nonce, node_id, expires_at) "
                      "VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1"));
  ResetOnExit reset(*redeem);
  ATTEST_RETURN_IF_ERROR(redeem->BindBlob(1, nonce));
  ATTEST_RETURN_IF_ERROR(redeem->BindText(2, node_id));
  ATTEST_RETURN_IF_ERROR(redeem->BindInt64(3, expiry));
  ATTEST_ASSIGN_OR_RETURN(bool inserted, redeem->Step());
  return inserted ? ChallengeRedemption::kValid : ChallengeRedemption::kReused;
}

Result<std::uint64_t> ApplyPruneChallenges(Connection& writer, std::chrono::seconds kept) {
  if (kept.count() < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "challenges kept for a negative time");
  }
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now, SqliteDatabaseNow(writer));
  {
    ATTEST_ASSIGN_OR_RETURN(
        SqliteStatement * horizon,
        writer.Prepared("INSERT INTO answered_challenges_horizon(id, pruned_before) VALUES (1, ?) "
                        "ON CONFLICT (id) DO UPDATE SET pruned_before = "
                        "max(pruned_before, excluded.pruned_before)"));
    ResetOnExit reset(*horizon);
    ATTEST_RETURN_IF_ERROR(horizon->BindInt64(
        1, now - std::chrono::duration_cast<std::chrono::microseconds>(kept).count()));
    ATTEST_RETURN_IF_ERROR(horizon->Run());
  }
  ATTEST_ASSIGN_OR_RETURN(std::int64_t horizon, PrunedBefore(writer));
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * prune,
      writer.Prepared("DELETE FROM answered_challenges WHERE expires_at < ? RETURNING 1"));
  ResetOnExit reset(*prune);
  ATTEST_RETURN_IF_ERROR(prune->BindInt64(1, horizon));
  std::uint64_t pruned = 0;
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(bool has_row, prune->Step());
    if (!has_row) return pruned;
    ++pruned;
  }
}

}  // namespace attest::service::internal
