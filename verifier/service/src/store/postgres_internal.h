// Internals of the PostgreSQL ServiceStore: its schema, and the relay that
// passes its rows through the SQLite store's checked binders and readers
// (rows.cpp) so that both backends accept, refuse and read back exactly the
// same values. Not part of the library's interface.
#pragma once

#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "attest/pg/pg.h"
#include "attest/service/store.h"
#include "attest/sqlite.h"

namespace attest::service::internal {

// ---- postgres_schema.cpp ----------------------------------------------
// Creates (when `create`) or checks and migrates the schema, under a
// transaction-scoped advisory lock.
Status PreparePostgresSchema(pg::Connection& connection, bool create);
// The same inside the caller's transaction, for a database that must hold
// no service schema yet (kAlreadyExists otherwise): `verifier migrate`
// creates it and copies the rows in one transaction.
Status CreatePostgresSchemaInTransaction(pg::Connection& connection);
// The tables the service schema makes (its version table too), and SQL
// that drops them all: what `verifier migrate` checks a target for and
// removes again when a later step fails.
std::vector<std::string> PostgresServiceTables();
std::string DropPostgresServiceSql();

// ---- postgres_relay.cpp -----------------------------------------------
// Parameters for one statement, owning the text and bytes they point at.
class PgParams {
 public:
  void Text(std::string_view text);
  void Bytes(ByteView bytes);
  void Int64(std::int64_t value) { params_.push_back(pg::Param::Int64(value)); }
  void Null() { params_.push_back(pg::Param::Null()); }
  std::span<const pg::Param> span() const { return params_; }
  std::size_t size() const { return params_.size(); }

 private:
  std::deque<std::string> texts_;
  std::deque<attest::Bytes> blobs_;
  std::vector<pg::Param> params_;
};

// Column types of a table's column list (sqlite_internal.h): 't' text,
// 'b' bytea, 'i' bigint, in order.
inline constexpr const char* kNodeTypes = "ttbbbtiitiiiiibtiiiiit";
inline constexpr const char* kEnrollmentTypes = "tttbbbbtiiii";
inline constexpr const char* kCertificateTypes = "ttiitit";
inline constexpr const char* kTokenTypes = "tttbii";
inline constexpr const char* kPolicyTypes = "itti";
inline constexpr const char* kOutboxTypes = "itti";
inline constexpr const char* kTrustedNodeTypes = "tiii";

// An in-memory SQLite database whose "SELECT ?1, ..." statements carry
// values between PostgreSQL and rows.cpp. Thread-compatible.
class Relay {
 public:
  static Result<Relay> Open();
  // Binds a record with `bind` (its checks apply) and appends its columns,
  // typed by `types`, to `params`.
  template <typename BindFunction>
  Status ToParams(const char* types, BindFunction bind, PgParams& params) {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement * select, Select(types));
    ATTEST_RETURN_IF_ERROR(bind(*select));
    return Copy(*select, types, params);
  }
  // Reads row `row` of `result`, typed by `types`, with `read` (its checks
  // apply).
  template <typename Record>
  Result<Record> FromRow(const pg::QueryResult& result, int row, const char* types,
                         Result<Record> (*read)(const SqliteStatement&)) {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement * select, Select(types));
    ATTEST_RETURN_IF_ERROR(Load(result, row, types, *select));
    Result<Record> record = read(*select);
    select->Reset();
    return record;
  }

 private:
  explicit Relay(SqliteDatabase db) : db_(std::move(db)) {}
  Result<SqliteStatement*> Select(const char* types);
  Status Copy(SqliteStatement& select, const char* types, PgParams& params);
  Status Load(const pg::QueryResult& result, int row, const char* types, SqliteStatement& select);

  SqliteDatabase db_;
  std::map<std::string, SqliteStatement, std::less<>> selects_;
};

// ---- postgres_node_cache.cpp -----------------------------------------
// The node rows this verifier last read or wrote, so that a GetNode whose
// row is unchanged reads two integers instead of the row's cached states (a
// few KB the database would decompress and send on every request). A row
// is known by its version and its tuple's xmin (the transaction that wrote
// it): every write of the row, by this verifier, another one or by hand,
// gives it a new xmin, so a hit is the stored row. Least recently used
// rows go first past `byte_budget`. Thread-safe.
class NodeRowCache {
 public:
  explicit NodeRowCache(std::size_t byte_budget);
  // The row, when the cached one is this version written by `row_xmin`
  // (the database just said so). `confirmed`: the row counts as read (for
  // ReadAt).
  std::optional<NodeRecord> Find(std::string_view node_id, std::int64_t version,
                                 std::int64_t row_xmin, bool confirmed);
  // The row at `version`, when a confirmed read found it.
  std::optional<NodeRecord> ReadAt(std::string_view node_id, std::int64_t version);
  // The cached row of this version, whatever wrote it: what the routine
  // update compares its cached states with, under its version check.
  std::shared_ptr<const NodeRecord> Stored(std::string_view node_id, std::int64_t version);
  // A row just read from the database; `confirmed` as for Find.
  void Put(NodeRecord node, std::int64_t row_xmin, bool confirmed);
  // After a routine update of `node` (node.version -> + 1) that wrote
  // `row_xmin`: the cached row at node.version with the routine fields
  // RecordRoutineUpdate writes taken from `node` (the others it never
  // writes); forgotten when that row is not cached.
  void PutRoutineUpdate(const NodeRecord& node, std::int64_t row_xmin);
  void Forget(std::string_view node_id);

 private:
  struct Entry {
    std::shared_ptr<const NodeRecord> node;
    std::int64_t row_xmin = 0;
    std::size_t bytes = 0;
    std::list<std::string>::iterator recency;
    // A confirmed read found the row (not only this store's write of it).
    bool read = false;
  };
  void PutLocked(NodeRecord node, std::int64_t row_xmin, bool read);
  void EraseLocked(std::string_view node_id);

  const std::size_t byte_budget_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> rows_;  // guarded by mutex_
  std::list<std::string> recency_;                  // most recent first
  std::size_t bytes_ = 0;
};

// ---- postgres_writes.cpp ----------------------------------------------
// The body of Commit, run inside the caller's transaction.
Status PgApplyChange(pg::Connection& connection, Relay& relay, const StoreChange& change,
                     CommitResult& result);
// A challenge answered with a routine update (RecordAnsweredRoutineUpdate).
struct PgChallengeAnswer {
  ByteView nonce;
  TimePoint expires_at;
};
struct PgRoutineOutcome {
  ChallengeRedemption answered = ChallengeRedemption::kValid;
  std::optional<std::int64_t> row_xmin;  // the updated row's (NodeRowCache), when updated
};
// RecordRoutineUpdate: one statement in its own relaxed transaction
// (outside any other); with `answer`, RecordAnsweredRoutineUpdate: one
// durable statement. `stored_row`, when known, is the row at
// node.version: a cached state equal to its is kept where it is, not sent
// again.
Result<PgRoutineOutcome> PgApplyRoutineUpdate(pg::Connection& connection, Relay& relay,
                                              const NodeRecord& node, const NodeRecord* stored_row,
                                              const PgChallengeAnswer* answer);

// ---- postgres_copy.cpp ------------------------------------------------
// Copies every row of a SQLite service database (current schema; the
// caller holds a read transaction on it) into a new PostgreSQL service
// schema, inside the caller's transaction: nodes, enrollments,
// certificates, tokens, policies (all of them), the ledger outbox with its
// ids, the drain intent and the CRL number; not the challenges. Returns
// the rows copied per table, in that order.
Result<std::vector<std::pair<std::string, std::uint64_t>>> CopySqliteServiceRows(
    SqliteDatabase& source, pg::Connection& target);

// ---- postgres_challenge.cpp -------------------------------------------
// The challenges (store.h), each one statement in its own transaction
// (outside any other); times by the server's clock.
Result<ChallengeRedemption> PgRedeemChallenge(pg::Connection& connection, std::string_view node_id,
                                              ByteView nonce, TimePoint expires_at);
// The redemption as SQL, for a statement to carry: `ctes`, two common table
// expressions (answer_clock, answered) redeeming nonce $nonce_param of node
// $node_param expiring $expiry_param (microseconds), and `outcome`, an
// expression over them: 1 valid, 2 expired, 3 reused (PgChallengeRedemption).
struct PgAnswerSql {
  std::string ctes;
  std::string outcome;
};
PgAnswerSql AnswerChallengeSql(int node_param, int nonce_param, int expiry_param);
Result<ChallengeRedemption> PgChallengeRedemption(std::int64_t outcome, std::string_view what);
Result<std::uint64_t> PgPruneChallenges(pg::Connection& connection, std::chrono::seconds kept);
Result<TimePoint> PgDatabaseNow(pg::Connection& connection);

}  // namespace attest::service::internal
