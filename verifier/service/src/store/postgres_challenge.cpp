// The challenges on PostgreSQL (store.h), as sqlite_challenge.cpp with the
// server's clock (now(): the transaction's start). A redemption is one
// statement, one round trip, one transaction, alone or with the routine
// update it answers for (postgres_writes.cpp). It needs no lock: the
// nonce's primary key decides (a concurrent INSERT of the same key waits
// for the first to commit, then does nothing).
#include <chrono>
#include <string>

#include "src/store/fields.h"
#include "src/store/postgres_internal.h"
#include "src/store/sqlite_internal.h"

namespace attest::service::internal {

using pg::Param;

PgAnswerSql AnswerChallengeSql(int node_param, int nonce_param, int expiry_param) {
  const std::string node = "$" + std::to_string(node_param);
  const std::string nonce = "$" + std::to_string(nonce_param);
  const std::string expiry = "$" + std::to_string(expiry_param);
  // The insert waits for a concurrent one of the same nonce to commit,
  // then does nothing (or inserts, should that one roll back). Expired: by
  // the clock, or before the pruning horizon (whatever the clock reads
  // now, should it have stepped back, such a nonce's answer may be gone).
  return PgAnswerSql{
      "answer_clock AS MATERIALIZED (SELECT greatest((extract(epoch FROM now()) * "
      "1000000)::bigint, coalesce((SELECT pruned_before FROM answered_challenges_horizon), 0)) "
      "AS now_us), "
      "answered AS (INSERT INTO answered_challenges(nonce, node_id, expires_at) "
      "SELECT " +
          nonce + ", " + node + ", " + expiry + " FROM answer_clock WHERE " + expiry +
          " > answer_clock.now_us ON CONFLICT DO NOTHING RETURNING 1 AS inserted)",
      "(CASE WHEN " + expiry +
          " <= (SELECT now_us FROM answer_clock) THEN 2 "
          "WHEN EXISTS (SELECT 1 FROM answered) THEN 1 ELSE 3 END)"};
}

Result<ChallengeRedemption> PgChallengeRedemption(std::int64_t outcome, std::string_view what) {
  switch (outcome) {
    case 1:
      return ChallengeRedemption::kValid;
    case 2:
      return ChallengeRedemption::kExpired;
    case 3:
      return ChallengeRedemption::kReused;
    default:
      return MakeError(ErrorCode::kCorrupt, std::string(what) + ": the database answered " +
                                                std::to_string(outcome) + ", not 1 to 3");
  }
}

Result<ChallengeRedemption> PgRedeemChallenge(pg::Connection& connection, std::string_view node_id,
                                              ByteView nonce, TimePoint expires_at) {
  ATTEST_RETURN_IF_ERROR(CheckChallengeRedemption(node_id, nonce, expires_at));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t expiry, TimeToMicros(expires_at, "expires_at"));
  const PgAnswerSql answer = AnswerChallengeSql(1, 2, 3);
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult redeemed,
      connection.QueryPrepared("redeem challenge",
                               "WITH " + answer.ctes + " SELECT " + answer.outcome,
                               {Param::Text(node_id), Param::Bytes(nonce), Param::Int64(expiry)}));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t outcome, redeemed.Int64(0, 0));
  return PgChallengeRedemption(outcome, "redeem challenge");
}

Result<std::uint64_t> PgPruneChallenges(pg::Connection& connection, std::chrono::seconds kept) {
  if (kept.count() < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "challenges kept for a negative time");
  }
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult pruned,
      connection.QueryPrepared(
          "prune challenges",
          // The horizon first (it only rises), then what is before it.
          "WITH horizon AS (INSERT INTO answered_challenges_horizon(id, pruned_before) "
          "VALUES (true, (extract(epoch FROM now()) * 1000000)::bigint - $1) "
          "ON CONFLICT (id) DO UPDATE SET pruned_before = greatest("
          "answered_challenges_horizon.pruned_before, EXCLUDED.pruned_before) "
          "RETURNING pruned_before) "
          "DELETE FROM answered_challenges WHERE expires_at < (SELECT pruned_before FROM horizon)",
          {Param::Int64(std::chrono::duration_cast<std::chrono::microseconds>(kept).count())}));
  return pruned.affected_rows();
}

Result<TimePoint> PgDatabaseNow(pg::Connection& connection) {
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult now,
      connection.QueryPrepared("read the database's clock",
                               "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t micros, now.Int64(0, 0));
  if (micros <= 0) {
    return MakeError(ErrorCode::kCorrupt, "the database's clock reads before 1970");
  }
  return TimePoint(std::chrono::microseconds(micros));
}

}  // namespace attest::service::internal
