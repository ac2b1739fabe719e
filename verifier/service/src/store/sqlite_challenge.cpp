// The challenges' bodies (store.h RecordChallenge, RedeemChallenge,
// PruneChallenges), each run inside the writer's transaction. Times are
// the database's: SQLite's clock is the host's, read by SQL so that the
// PostgreSQL store can do the same with now().
#include <chrono>
#include <string>

#include "src/store/fields.h"
#include "src/store/sqlite_internal.h"

namespace attest::service::internal {
namespace {

// Microseconds since the Unix epoch by SQLite's clock (millisecond
// resolution).
constexpr const char* kNowMicros =
    "SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";

// A challenge row that is outstanding at ?now: unredeemed and unexpired.
constexpr const char* kOutstanding =
    "expires_at > ?2 AND NOT EXISTS (SELECT 1 FROM challenge_redemptions r "
    "WHERE r.challenge_id = challenges.challenge_id)";

Result<std::int64_t> DatabaseNow(Connection& writer) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * now, writer.Prepared(kNowMicros));
  ResetOnExit reset(*now);
  ATTEST_ASSIGN_OR_RETURN(bool has_row, now->Step());
  if (!has_row || now->ColumnInt64(0) <= 0) {
    return MakeError(ErrorCode::kInternal, "service database: the clock reads before 1970");
  }
  return now->ColumnInt64(0);
}

// How many rows the node has, whatever their state.
Result<std::int64_t> CountNodeRows(Connection& writer, std::string_view node_id) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * count,
                          writer.Prepared("SELECT count(*) FROM challenges WHERE node_id = ?"));
  ResetOnExit reset(*count);
  ATTEST_RETURN_IF_ERROR(count->BindText(1, node_id));
  ATTEST_ASSIGN_OR_RETURN(bool has_row, count->Step());
  return has_row ? count->ColumnInt64(0) : 0;
}

Status RunBound(Connection& writer, const std::string& sql, std::string_view node_id,
                std::int64_t now, std::string_view requester, std::int64_t keep) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement, writer.Prepared(sql));
  ResetOnExit reset(*statement);
  ATTEST_RETURN_IF_ERROR(statement->BindText(1, node_id));
  ATTEST_RETURN_IF_ERROR(statement->BindInt64(2, now));
  ATTEST_RETURN_IF_ERROR(statement->BindText(3, requester));
  ATTEST_RETURN_IF_ERROR(statement->BindInt64(4, keep));
  return statement->Run();
}

// Keeps at most `max - 1` outstanding challenges of `requester` for the
// node (its newest), making room for one more.
Status BoundRequester(Connection& writer, std::string_view node_id, std::int64_t now,
                      std::string_view requester, std::size_t max) {
  const std::string sql = std::string(
                              "DELETE FROM challenges WHERE challenge_id IN ("
                              "SELECT challenge_id FROM challenges WHERE node_id = ?1 AND "
                              "requester = ?3 AND ") +
                          kOutstanding + " ORDER BY challenge_id DESC LIMIT -1 OFFSET ?4)";
  return RunBound(writer, sql, node_id, now, requester, static_cast<std::int64_t>(max) - 1);
}

// Deletes one of the node's rows: the oldest redeemed or expired one, else
// the oldest outstanding one of the requester holding the most.
Status EvictOne(Connection& writer, std::string_view node_id, std::int64_t now) {
  const std::string remembered = std::string(
                                     "DELETE FROM challenges WHERE challenge_id = ("
                                     "SELECT challenge_id FROM challenges WHERE node_id = ?1 AND "
                                     "NOT (") +
                                 kOutstanding + ") ORDER BY challenge_id LIMIT 1) RETURNING 1";
  {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement, writer.Prepared(remembered));
    ResetOnExit reset(*statement);
    ATTEST_RETURN_IF_ERROR(statement->BindText(1, node_id));
    ATTEST_RETURN_IF_ERROR(statement->BindInt64(2, now));
    ATTEST_ASSIGN_OR_RETURN(bool deleted, statement->Step());
    if (deleted) return OkStatus();
  }
  const std::string largest =
      std::string(
          "DELETE FROM challenges WHERE challenge_id = ("
          "SELECT challenge_id FROM challenges WHERE node_id = ?1 AND ") +
      kOutstanding + " AND requester = (SELECT requester FROM challenges WHERE node_id = ?1 AND " +
      kOutstanding +
      " GROUP BY requester ORDER BY count(*) DESC, min(challenge_id) LIMIT 1) "
      "ORDER BY challenge_id LIMIT 1)";
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement, writer.Prepared(largest));
  ResetOnExit reset(*statement);
  ATTEST_RETURN_IF_ERROR(statement->BindText(1, node_id));
  ATTEST_RETURN_IF_ERROR(statement->BindInt64(2, now));
  return statement->Run();
}

}  // namespace

Result<TimePoint> ApplyRecordChallenge(Connection& writer, std::string_view node_id, ByteView nonce,
                                       std::string_view requester,
                                       std::chrono::milliseconds lifetime,
                                       const ChallengeBounds& bounds) {
  ATTEST_RETURN_IF_ERROR(CheckChallengeRequest(node_id, nonce, requester, lifetime, bounds));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now, DatabaseNow(writer));
  ATTEST_RETURN_IF_ERROR(
      BoundRequester(writer, node_id, now, requester, bounds.max_outstanding_per_requester));
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(std::int64_t rows, CountNodeRows(writer, node_id));
    if (rows < static_cast<std::int64_t>(bounds.max_per_node)) break;
    ATTEST_RETURN_IF_ERROR(EvictOne(writer, node_id, now));
  }
  const std::int64_t expires_at =
      now + std::chrono::duration_cast<std::chrono::microseconds>(lifetime).count();
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * insert,
      writer.Prepared("INSERT INTO challenges(nonce, node_id, requester, expires_at) "
                      "VALUES (?, ?, ?, ?)"));
  ResetOnExit reset(*insert);
  ATTEST_RETURN_IF_ERROR(insert->BindBlob(1, nonce));
  ATTEST_RETURN_IF_ERROR(insert->BindText(2, node_id));
  ATTEST_RETURN_IF_ERROR(insert->BindText(3, requester));
  ATTEST_RETURN_IF_ERROR(insert->BindInt64(4, expires_at));
  ATTEST_RETURN_IF_ERROR(insert->Run());
  return TimePoint(std::chrono::microseconds(expires_at));
}

Result<ChallengeRedemption> ApplyRedeemChallenge(Connection& writer, std::string_view node_id,
                                                 ByteView nonce) {
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now, DatabaseNow(writer));
  std::int64_t challenge_id = 0;
  bool expired = false;
  {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement * find,
                            writer.Prepared("SELECT challenge_id, expires_at <= ? FROM challenges "
                                            "WHERE node_id = ? AND nonce = ?"));
    ResetOnExit reset(*find);
    ATTEST_RETURN_IF_ERROR(find->BindInt64(1, now));
    ATTEST_RETURN_IF_ERROR(find->BindText(2, node_id));
    ATTEST_RETURN_IF_ERROR(find->BindBlob(3, nonce));
    ATTEST_ASSIGN_OR_RETURN(bool found, find->Step());
    if (!found) return ChallengeRedemption::kUnknown;
    challenge_id = find->ColumnInt64(0);
    expired = find->ColumnInt64(1) != 0;
  }
  // The primary key decides: a second redemption inserts nothing.
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * redeem,
      writer.Prepared("INSERT INTO challenge_redemptions(challenge_id, redeemed_at) VALUES (?, ?) "
                      "ON CONFLICT DO NOTHING RETURNING challenge_id"));
  ResetOnExit reset(*redeem);
  ATTEST_RETURN_IF_ERROR(redeem->BindInt64(1, challenge_id));
  ATTEST_RETURN_IF_ERROR(redeem->BindInt64(2, now));
  ATTEST_ASSIGN_OR_RETURN(bool inserted, redeem->Step());
  if (!inserted) return ChallengeRedemption::kReused;
  return expired ? ChallengeRedemption::kExpired : ChallengeRedemption::kValid;
}

Result<std::uint64_t> ApplyPruneChallenges(Connection& writer, std::chrono::seconds kept) {
  if (kept.count() < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "challenges kept for a negative time");
  }
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now, DatabaseNow(writer));
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * prune,
      writer.Prepared("DELETE FROM challenges WHERE expires_at < ? RETURNING challenge_id"));
  ResetOnExit reset(*prune);
  ATTEST_RETURN_IF_ERROR(prune->BindInt64(
      1, now - std::chrono::duration_cast<std::chrono::microseconds>(kept).count()));
  std::uint64_t pruned = 0;
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(bool has_row, prune->Step());
    if (!has_row) return pruned;
    ++pruned;
  }
}

}  // namespace attest::service::internal
