// The challenges on PostgreSQL (store.h), as sqlite_challenge.cpp with the
// server's clock (now(): the transaction's start). Each is one call of a
// function of the schema (postgres_schema.cpp, version 2): one statement,
// one round trip, one transaction, which is most of what a challenge costs
// the database. Recording takes an advisory lock per node, so the bounds
// hold with several verifiers issuing at once; redeeming needs none: the
// redemption's primary key decides (a concurrent INSERT of the same key
// waits for the first to commit, then does nothing).
#include <chrono>
#include <string>

#include "src/store/fields.h"
#include "src/store/postgres_internal.h"

namespace attest::service::internal {
namespace {

using pg::Param;

std::int64_t Micros(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
}

}  // namespace

Result<TimePoint> PgRecordChallenge(pg::Connection& connection, std::string_view node_id,
                                    ByteView nonce, std::string_view requester,
                                    std::chrono::milliseconds lifetime,
                                    const ChallengeBounds& bounds) {
  ATTEST_RETURN_IF_ERROR(CheckChallengeRequest(node_id, nonce, requester, lifetime, bounds));
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult recorded,
      connection.QueryPrepared(
          "record challenge", "SELECT attest_service_record_challenge($1, $2, $3, $4, $5, $6)",
          {Param::Text(node_id), Param::Bytes(nonce), Param::Text(requester),
           Param::Int64(Micros(lifetime)),
           Param::Int64(static_cast<std::int64_t>(bounds.max_outstanding_per_requester)),
           Param::Int64(static_cast<std::int64_t>(bounds.max_per_node))}));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t expires_at, recorded.Int64(0, 0));
  return TimePoint(std::chrono::microseconds(expires_at));
}

Result<ChallengeRedemption> PgRedeemChallenge(pg::Connection& connection, std::string_view node_id,
                                              ByteView nonce) {
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult redeemed,
      connection.QueryPrepared("redeem challenge", "SELECT attest_service_redeem_challenge($1, $2)",
                               {Param::Text(node_id), Param::Bytes(nonce)}));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t outcome, redeemed.Int64(0, 0));
  switch (outcome) {
    case 0:
      return ChallengeRedemption::kUnknown;
    case 1:
      return ChallengeRedemption::kValid;
    case 2:
      return ChallengeRedemption::kExpired;
    case 3:
      return ChallengeRedemption::kReused;
    default:
      return MakeError(ErrorCode::kCorrupt, "redeem challenge: the database answered " +
                                                std::to_string(outcome) + ", not 0 to 3");
  }
}

Result<std::uint64_t> PgPruneChallenges(pg::Connection& connection, std::chrono::seconds kept) {
  if (kept.count() < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "challenges kept for a negative time");
  }
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult pruned,
      connection.QueryPrepared(
          "prune challenges",
          "DELETE FROM challenges WHERE expires_at < "
          "(extract(epoch FROM now()) * 1000000)::bigint - $1",
          {Param::Int64(std::chrono::duration_cast<std::chrono::microseconds>(kept).count())}));
  return pruned.affected_rows();
}

}  // namespace attest::service::internal
