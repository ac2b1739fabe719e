// The challenges' bodies on PostgreSQL (store.h), as sqlite_challenge.cpp
// with the server's clock (now(): the transaction's start). Recording takes
// an advisory lock per node, so the bounds hold with several verifiers
// issuing at once; redeeming needs none: the redemption's primary key
// decides (a concurrent INSERT of the same key waits for the first to
// commit, then does nothing).
#include <chrono>
#include <string>

#include "src/store/fields.h"
#include "src/store/postgres_internal.h"

namespace attest::service::internal {
namespace {

using pg::Param;

constexpr const char* kPgNowMicros = "SELECT (extract(epoch FROM now()) * 1000000)::bigint";

// A challenge row that is outstanding at $2: unredeemed and unexpired.
constexpr const char* kPgOutstanding =
    "expires_at > $2 AND NOT EXISTS (SELECT 1 FROM challenge_redemptions r "
    "WHERE r.challenge_id = challenges.challenge_id)";

Result<std::int64_t> PgDatabaseNow(pg::Connection& connection) {
  ATTEST_ASSIGN_OR_RETURN(pg::QueryResult now,
                          connection.QueryPrepared("read the clock", kPgNowMicros));
  return now.Int64(0, 0);
}

}  // namespace

Result<TimePoint> PgRecordChallenge(pg::Connection& connection, std::string_view node_id,
                                    ByteView nonce, std::string_view requester,
                                    std::chrono::milliseconds lifetime,
                                    const ChallengeBounds& bounds) {
  ATTEST_RETURN_IF_ERROR(CheckChallengeRequest(node_id, nonce, requester, lifetime, bounds));
  ATTEST_RETURN_IF_ERROR(connection.ExecutePrepared("lock the node's challenges",
                                                    "SELECT pg_advisory_xact_lock(hashtext($1))",
                                                    {Param::Text(node_id)}));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now, PgDatabaseNow(connection));
  ATTEST_RETURN_IF_ERROR(connection.ExecutePrepared(
      "bound the requester's challenges",
      std::string("DELETE FROM challenges WHERE challenge_id IN (SELECT challenge_id FROM "
                  "challenges WHERE node_id = $1 AND requester = $3 AND ") +
          kPgOutstanding + " ORDER BY challenge_id DESC OFFSET $4)",
      {Param::Text(node_id), Param::Int64(now), Param::Text(requester),
       Param::Int64(static_cast<std::int64_t>(bounds.max_outstanding_per_requester) - 1)}));
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult count,
        connection.QueryPrepared("count the node's challenges",
                                 "SELECT count(*) FROM challenges WHERE node_id = $1",
                                 {Param::Text(node_id)}));
    ATTEST_ASSIGN_OR_RETURN(std::int64_t rows, count.Int64(0, 0));
    if (rows < static_cast<std::int64_t>(bounds.max_per_node)) break;
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult remembered,
        connection.QueryPrepared(
            "evict a remembered challenge",
            std::string("DELETE FROM challenges WHERE challenge_id = (SELECT "
                        "challenge_id FROM challenges WHERE node_id = $1 AND NOT (") +
                kPgOutstanding + ") ORDER BY challenge_id LIMIT 1)",
            {Param::Text(node_id), Param::Int64(now)}));
    if (remembered.affected_rows() > 0) continue;
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult largest,
        connection.QueryPrepared(
            "evict the largest holder's oldest challenge",
            std::string("DELETE FROM challenges WHERE challenge_id = (SELECT challenge_id FROM "
                        "challenges WHERE node_id = $1 AND ") +
                kPgOutstanding +
                " AND requester = (SELECT requester FROM challenges WHERE node_id = $1 AND " +
                kPgOutstanding +
                " GROUP BY requester ORDER BY count(*) DESC, min(challenge_id) LIMIT 1) "
                "ORDER BY challenge_id LIMIT 1)",
            {Param::Text(node_id), Param::Int64(now)}));
    if (largest.affected_rows() == 0) {
      return MakeError(ErrorCode::kInternal, "challenges: a full node with nothing to evict");
    }
  }
  const std::int64_t expires_at =
      now + std::chrono::duration_cast<std::chrono::microseconds>(lifetime).count();
  ATTEST_RETURN_IF_ERROR(connection.ExecutePrepared(
      "record challenge",
      "INSERT INTO challenges(nonce, node_id, requester, expires_at) VALUES ($1, $2, $3, $4)",
      {Param::Bytes(nonce), Param::Text(node_id), Param::Text(requester),
       Param::Int64(expires_at)}));
  return TimePoint(std::chrono::microseconds(expires_at));
}

Result<ChallengeRedemption> PgRedeemChallenge(pg::Connection& connection, std::string_view node_id,
                                              ByteView nonce) {
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now, PgDatabaseNow(connection));
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult found,
      connection.QueryPrepared("find challenge",
                               "SELECT challenge_id, expires_at <= $1 FROM challenges "
                               "WHERE node_id = $2 AND nonce = $3",
                               {Param::Int64(now), Param::Text(node_id), Param::Bytes(nonce)}));
  if (found.rows() == 0) return ChallengeRedemption::kUnknown;
  ATTEST_ASSIGN_OR_RETURN(std::int64_t challenge_id, found.Int64(0, 0));
  ATTEST_ASSIGN_OR_RETURN(bool expired, found.Bool(0, 1));
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult redeemed,
      connection.QueryPrepared("redeem challenge",
                               "INSERT INTO challenge_redemptions(challenge_id, redeemed_at) "
                               "VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               {Param::Int64(challenge_id), Param::Int64(now)}));
  if (redeemed.affected_rows() == 0) return ChallengeRedemption::kReused;
  return expired ? ChallengeRedemption::kExpired : ChallengeRedemption::kValid;
}

Result<std::uint64_t> PgPruneChallenges(pg::Connection& connection, std::chrono::seconds kept) {
  if (kept.count() < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "challenges kept for a negative time");
  }
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now, PgDatabaseNow(connection));
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult pruned,
      connection.QueryPrepared(
          "prune challenges", "DELETE FROM challenges WHERE expires_at < $1",
          {Param::Int64(now -
                        std::chrono::duration_cast<std::chrono::microseconds>(kept).count())}));
  return pruned.affected_rows();
}

}  // namespace attest::service::internal
