// Commit's and RecordRoutineUpdate's bodies on PostgreSQL, in the caller's
// READ COMMITTED transaction. Compare-and-set by a guarded UPDATE (a
// concurrent writer's UPDATE waits for ours and then matches no row) or an
// INSERT ... ON CONFLICT DO NOTHING for a new record; commits that queue
// ledger events or apply a policy take one advisory lock, so outbox ids
// commit in order and policy serials are checked against the last one.
#include <algorithm>
#include <chrono>

#include "src/store/fields.h"
#include "src/store/postgres_internal.h"
#include "src/store/sqlite_internal.h"

namespace attest::service::internal {
namespace {

using pg::Param;

// Whether the boot_state (runtime_state) column would hold the same value
// for both records: the cached state's text, NULL without one.
bool SameBootState(const NodeRecord& stored, const NodeRecord& node) {
  if (!stored.boot_cache || !node.boot_cache) return !stored.boot_cache && !node.boot_cache;
  return stored.boot_cache->verified_state_json == node.boot_cache->verified_state_json;
}

bool SameRuntimeState(const NodeRecord& stored, const NodeRecord& node) {
  if (!stored.runtime_cache || !node.runtime_cache) {
    return !stored.runtime_cache && !node.runtime_cache;
  }
  return stored.runtime_cache->verified_state_json == node.runtime_cache->verified_state_json;
}

// "AVSO": commits that queue ledger events or apply a policy.
constexpr std::int64_t kOutboxLockKey = 0x4156534f;

std::string PgPlaceholders(std::size_t count, std::size_t first = 1) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += (i == 0 ? "$" : ", $") + std::to_string(first + i);
  }
  return out;
}

// "a = $2, b = $3, ..." for the columns after the key (column 1).
std::string SetFromParams(std::string_view columns) {
  std::string out;
  std::size_t index = 1;
  while (!columns.empty()) {
    std::size_t comma = columns.find(',');
    std::string_view column = columns.substr(0, comma);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    if (index > 1) {
      if (!out.empty()) out += ", ";
      out += std::string(column) + " = $" + std::to_string(index);
    }
    ++index;
    columns = comma == std::string_view::npos ? std::string_view() : columns.substr(comma + 1);
  }
  return out;
}

Error Stale(std::string_view what, std::string_view id, std::int64_t given, std::int64_t stored) {
  return MakeError(ErrorCode::kBusy, std::string(what) + " " + std::string(id) +
                                         " changed since it was read (version " +
                                         std::to_string(given) + ", stored " +
                                         std::to_string(stored) + "); read it again");
}

Result<std::int64_t> StoredVersion(pg::Connection& connection, const std::string& sql,
                                   std::string_view id) {
  ATTEST_ASSIGN_OR_RETURN(pg::QueryResult read,
                          connection.Query("read the stored version", sql, {Param::Text(id)}));
  if (read.rows() == 0) return std::int64_t{0};
  return read.Int64(0, 0);
}

// The version read, written again since by another write than the one
// read (NodeRecord::row_token): a commit in between was lost.
Error RewrittenVersion(std::string_view what, std::string_view id, std::int64_t version) {
  return MakeError(ErrorCode::kBusy, std::string(what) + " " + std::string(id) +
                                         " was written again at version " +
                                         std::to_string(version) +
                                         " since it was read (a commit was lost); read it again");
}

// Inserts (version 0) or updates (the version read) a record whose key is
// column 1 and whose version is the last-but-`version_from_end` column.
// `row_token`, when not 0, is the xmin the row must also have
// (NodeRecord::row_token).
Status CompareAndSet(pg::Connection& connection, std::string_view what, const std::string& table,
                     const char* columns, std::string_view key_column, std::string_view id,
                     std::int64_t version, std::int64_t row_token, const PgParams& params) {
  if (version < 0 || version == kMaxInt64) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(what) + ".version: " +
                                                      std::to_string(version) + " is out of range");
  }
  std::uint64_t written = 0;
  if (version == 0) {
    const std::string sql = "INSERT INTO " + table + "(" + columns + ") VALUES (" +
                            PgPlaceholders(params.size()) + ") ON CONFLICT DO NOTHING";
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult insert,
                            connection.Query("insert " + std::string(what), sql, params.span()));
    written = insert.affected_rows();
  } else {
    std::vector<Param> with_version(params.span().begin(), params.span().end());
    with_version.push_back(Param::Int64(version));
    with_version.push_back(row_token != 0 ? Param::Int64(row_token) : Param::Null());
    const std::string token = "$" + std::to_string(params.size() + 2);
    const std::string sql = "UPDATE " + table + " SET " + SetFromParams(columns) + " WHERE " +
                            std::string(key_column) + " = $1 AND version = $" +
                            std::to_string(params.size() + 1) + " AND (" + token +
                            "::bigint IS NULL OR xmin::text::bigint = " + token + ")";
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult update,
                            connection.Query("update " + std::string(what), sql, with_version));
    written = update.affected_rows();
  }
  if (written == 1) return OkStatus();
  ATTEST_ASSIGN_OR_RETURN(
      std::int64_t stored,
      StoredVersion(connection,
                    "SELECT version FROM " + table + " WHERE " + std::string(key_column) + " = $1",
                    id));
  if (stored == version) return RewrittenVersion(what, id, version);
  return Stale(what, id, version, stored);
}

Status PgCheckPolicySerial(pg::Connection& connection, const PolicyRecord& policy) {
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult read,
      connection.Query("read the policy serial", "SELECT max(serial) FROM policies"));
  ATTEST_ASSIGN_OR_RETURN(bool none, read.IsNull(0, 0));
  if (none) return OkStatus();
  ATTEST_ASSIGN_OR_RETURN(std::int64_t current_signed, read.Int64(0, 0));
  const auto current = static_cast<std::uint64_t>(current_signed);
  if (policy.serial <= current) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "policy serial " + std::to_string(policy.serial) +
                         " does not exceed the current policy's serial " + std::to_string(current) +
                         " (no rollback to an older policy)");
  }
  return OkStatus();
}

Status PgInsert(pg::Connection& connection, std::string_view what, const std::string& table,
                const char* columns, const PgParams& params, std::string_view conflict = "") {
  const std::string sql = "INSERT INTO " + table + "(" + columns + ") VALUES (" +
                          PgPlaceholders(params.size()) + ")" + std::string(conflict);
  ATTEST_ASSIGN_OR_RETURN(pg::QueryResult inserted, connection.Query(what, sql, params.span()));
  return OkStatus();
}

}  // namespace

Status PgApplyChange(pg::Connection& connection, Relay& relay, const StoreChange& change,
                     CommitResult& result) {
  ATTEST_ASSIGN_OR_RETURN(std::vector<std::string> payloads, CanonicalPayloads(change.events));
  if (!change.events.empty() || change.policy) {
    ATTEST_RETURN_IF_ERROR(connection.Execute("lock the outbox", "SELECT pg_advisory_xact_lock($1)",
                                              {Param::Int64(kOutboxLockKey)}));
  }
  if (change.node) {
    const NodeRecord& node = *change.node;
    PgParams params;
    ATTEST_RETURN_IF_ERROR(relay.ToParams(
        kNodeTypes,
        [&](SqliteStatement& s) {
          return BindNode(s, node, node.version == kMaxInt64 ? 0 : node.version + 1);
        },
        params));
    ATTEST_RETURN_IF_ERROR(CompareAndSet(connection, "node", "nodes", kNodeColumns, "node_id",
                                         node.node_id, node.version, node.row_token, params));
  }
  if (change.enrollment) {
    const EnrollmentRecord& enrollment = *change.enrollment;
    PgParams params;
    ATTEST_RETURN_IF_ERROR(relay.ToParams(
        kEnrollmentTypes,
        [&](SqliteStatement& s) {
          return BindEnrollment(s, enrollment,
                                enrollment.version == kMaxInt64 ? 0 : enrollment.version + 1);
        },
        params));
    ATTEST_RETURN_IF_ERROR(CompareAndSet(connection, "enrollment", "enrollments",
                                         kEnrollmentColumns, "enrollment_id",
                                         enrollment.enrollment_id, enrollment.version, 0, params));
  }
  if (change.revoke_certificates_of) {
    ATTEST_ASSIGN_OR_RETURN(std::int64_t revoked_at, TimeToMicros(change.revoked_at, "revoked_at"));
    if (change.revocation_reason.size() > kMaxShortTextBytes) {
      return MakeError(ErrorCode::kInvalidArgument, "change.revocation_reason: too long");
    }
    if (Problem problem = CheckLowerHex(*change.revoke_certificates_of, 64, 64)) {
      return MakeError(ErrorCode::kInvalidArgument, "change.revoke_certificates_of: " + *problem);
    }
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult revoked,
        connection.Query("revoke certificates",
                         "UPDATE certificates SET revoked_at = $1, revocation_reason = $2 "
                         "WHERE node_id = $3 AND revoked_at IS NULL RETURNING serial_hex",
                         {Param::Int64(revoked_at), Param::Text(change.revocation_reason),
                          Param::Text(*change.revoke_certificates_of)}));
    for (int row = 0; row < revoked.rows(); ++row) {
      ATTEST_ASSIGN_OR_RETURN(std::string_view serial, revoked.Text(row, 0));
      result.revoked_serials.emplace_back(serial);
    }
    std::sort(result.revoked_serials.begin(), result.revoked_serials.end());
  }
  for (const CertificateRecord& certificate : change.new_certificates) {
    PgParams params;
    ATTEST_RETURN_IF_ERROR(relay.ToParams(
        kCertificateTypes, [&](SqliteStatement& s) { return BindCertificate(s, certificate); },
        params));
    ATTEST_RETURN_IF_ERROR(
        PgInsert(connection, "insert certificate", "certificates", kCertificateColumns, params));
  }
  if (change.token) {
    PgParams params;
    ATTEST_RETURN_IF_ERROR(relay.ToParams(
        kTokenTypes, [&](SqliteStatement& s) { return BindToken(s, *change.token); }, params));
    ATTEST_RETURN_IF_ERROR(PgInsert(
        connection, "write token", "tokens", kTokenColumns, params,
        std::string(" ON CONFLICT (token_id) DO UPDATE SET ") + SetFromParams(kTokenColumns)));
  }
  if (change.policy) {
    ATTEST_RETURN_IF_ERROR(PgCheckPolicySerial(connection, *change.policy));
    PgParams params;
    ATTEST_RETURN_IF_ERROR(relay.ToParams(
        kPolicyTypes, [&](SqliteStatement& s) { return BindPolicy(s, *change.policy); }, params));
    ATTEST_RETURN_IF_ERROR(
        PgInsert(connection, "insert policy", "policies", kPolicyColumns, params));
  }
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now,
                          TimeToMicros(std::chrono::system_clock::now(), "recorded_at"));
  for (std::size_t i = 0; i < change.events.size(); ++i) {
    ATTEST_RETURN_IF_ERROR(connection.Execute(
        "queue ledger event",
        "INSERT INTO ledger_outbox(kind, payload, recorded_at) VALUES ($1, $2, $3)",
        {Param::Text(change.events[i].kind), Param::Text(payloads[i]), Param::Int64(now)}));
  }
  return OkStatus();
}

namespace {

// Why a routine update matched no row, as Commit would say it (never OK).
Status ExplainRoutineNoMatch(pg::Connection& connection, const NodeRecord& node) {
  ATTEST_ASSIGN_OR_RETURN(pg::QueryResult read,
                          connection.Query("read the node",
                                           "SELECT version, state, xmin::text::bigint FROM nodes "
                                           "WHERE node_id = $1",
                                           {Param::Text(node.node_id)}));
  if (read.rows() == 0) {
    return MakeError(
        ErrorCode::kNotFound,
        "node " + node.node_id + ": no such node (a routine update never creates one)");
  }
  ATTEST_ASSIGN_OR_RETURN(std::int64_t stored, read.Int64(0, 0));
  if (stored != node.version) return Stale("node", node.node_id, node.version, stored);
  ATTEST_ASSIGN_OR_RETURN(std::int64_t row_xmin, read.Int64(0, 2));
  if (node.row_token != 0 && row_xmin != node.row_token) {
    return RewrittenVersion("node", node.node_id, node.version);
  }
  ATTEST_ASSIGN_OR_RETURN(std::string_view state, read.Text(0, 1));
  return MakeError(ErrorCode::kInvalidArgument,
                   "node " + node.node_id + ": a routine update keeps the state (stored " +
                       std::string(state) + ", given " + std::string(NodeStateName(node.state)) +
                       "); a state change is a Commit");
}

// The SQLSTATE attest_service_abandon_answer raises (postgres_schema.cpp).
constexpr std::string_view kAnswerAbandoned = "AT409";

}  // namespace

Result<PgRoutineOutcome> PgApplyRoutineUpdate(pg::Connection& connection, Relay& relay,
                                              const NodeRecord& node, const NodeRecord* stored_row,
                                              const PgChallengeAnswer* answer) {
  if (node.version < 0 || node.version == kMaxInt64) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "node.version: " + std::to_string(node.version) + " is out of range");
  }
  std::int64_t answer_expiry = 0;
  if (answer != nullptr) {
    ATTEST_RETURN_IF_ERROR(
        CheckChallengeRedemption(node.node_id, answer->nonce, answer->expires_at));
    ATTEST_ASSIGN_OR_RETURN(answer_expiry, TimeToMicros(answer->expires_at, "expires_at"));
  }
  PgParams params;
  ATTEST_RETURN_IF_ERROR(relay.ToParams(
      kNodeTypes, [&](SqliteStatement& s) { return BindNode(s, node, node.version + 1); }, params));
  // Columns 8-16 and 19-22 of kNodeColumns are the routine ones; the key
  // (1) and the state (6) guard the update with the version. The cached
  // states (a few KB, compressed out of line) are rewritten only when they
  // changed: kept as they are, their stored value is reused, not compressed
  // and written again on every attestation. Where the row at this version
  // is known (NodeRowCache: the version check makes it the row updated),
  // an unchanged state is not even sent, nor compared by the database.
  const bool boot_kept = stored_row != nullptr && SameBootState(*stored_row, node);
  const bool runtime_kept = stored_row != nullptr && SameRuntimeState(*stored_row, node);
  const std::span<const Param> all = params.span();
  std::vector<Param> bound = {all[0], all[5]};
  for (std::size_t column = 8; column <= 16; ++column) bound.push_back(all[column - 1]);
  for (std::size_t column = 19; column <= 22; ++column) bound.push_back(all[column - 1]);
  bound.push_back(Param::Int64(node.version));
  if (boot_kept) bound[10] = Param::Null();
  if (runtime_kept) bound[14] = Param::Null();
  bound.push_back(Param::Int64(boot_kept ? 1 : 0));
  bound.push_back(Param::Int64(runtime_kept ? 1 : 0));
  bound.push_back(node.row_token != 0 ? Param::Int64(node.row_token) : Param::Null());
  const std::string update =
      "UPDATE nodes SET last_attestation = $3, last_verdict = $4, last_clock = $5, "
      "last_reset_count = $6, last_restart_count = $7, boot_reset_count = $8, "
      "boot_restart_count = $9, boot_log_digest = $10, "
      "boot_state = CASE WHEN $17 = 1 THEN boot_state "
      "WHEN boot_state IS NOT DISTINCT FROM $11 THEN boot_state ELSE $11 END, "
      "runtime_reset_count = $12, runtime_restart_count = $13, runtime_entries = $14, "
      "runtime_state = CASE WHEN $18 = 1 THEN runtime_state "
      "WHEN runtime_state IS NOT DISTINCT FROM $15 THEN runtime_state ELSE $15 END, "
      "version = version + 1 ";
  const std::string guard =
      "node_id = $1 AND version = $16 AND state = $2 AND "
      "($19::bigint IS NULL OR nodes.xmin::text::bigint = $19) ";
  if (answer == nullptr) {
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult updated,
        connection.QueryPrepared(
            "routine update",
            // Relaxed for this statement's own transaction: the CTE is
            // joined, so set_config runs before the commit.
            "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) " + update +
                "FROM relaxed WHERE " + guard + "RETURNING nodes.xmin::text::bigint",
            bound));
    if (updated.rows() == 1) {
      ATTEST_ASSIGN_OR_RETURN(std::int64_t row_xmin, updated.Int64(0, 0));
      return PgRoutineOutcome{ChallengeRedemption::kValid, row_xmin};
    }
    return ExplainRoutineNoMatch(connection, node).error();
  }
  // Durable, one statement: the answer, the update only on a valid one,
  // and should the update then match no row, attest_service_abandon_answer
  // raises and the statement's transaction, the answer in it, rolls back.
  bound.push_back(Param::Bytes(answer->nonce));
  bound.push_back(Param::Int64(answer_expiry));
  const PgAnswerSql answer_sql = AnswerChallengeSql(1, 20, 21);
  Result<pg::QueryResult> answered = connection.QueryPrepared(
      "answered routine update",
      "WITH " + answer_sql.ctes + ", updated AS (" + update +
          "WHERE EXISTS (SELECT 1 FROM answered) AND " + guard +
          "RETURNING nodes.xmin::text::bigint AS row_xmin) "
          "SELECT " +
          answer_sql.outcome +
          ", (SELECT row_xmin FROM updated), "
          "CASE WHEN EXISTS (SELECT 1 FROM answered) AND NOT EXISTS (SELECT 1 FROM updated) "
          "THEN attest_service_abandon_answer($1) END",
      bound);
  if (!answered.ok()) {
    if (answered.error().sqlstate == kAnswerAbandoned) {
      return ExplainRoutineNoMatch(connection, node).error();
    }
    return answered.error();
  }
  ATTEST_ASSIGN_OR_RETURN(std::int64_t outcome, answered->Int64(0, 0));
  ATTEST_ASSIGN_OR_RETURN(ChallengeRedemption redemption,
                          PgChallengeRedemption(outcome, "answered routine update"));
  if (redemption != ChallengeRedemption::kValid) return PgRoutineOutcome{redemption, std::nullopt};
  ATTEST_ASSIGN_OR_RETURN(std::int64_t row_xmin, answered->Int64(0, 1));
  return PgRoutineOutcome{ChallengeRedemption::kValid, row_xmin};
}

}  // namespace attest::service::internal
