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
#include "attest/pg/reconnect.h"
#include "attest/service/postgres_store.h"
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
//
// Solo mode: while the store knows itself the only verifier on the
// database (Alone, every second) and has seen no sign of another writer
// for `solo_after`, a challenge takes the cached row without asking
// (LastKnown): one round trip of two per attestation. Should someone else
// have changed the row after all (the CLI, a hand edit, a verifier that
// just connected), the answer's commit, guarded by the version and xmin,
// refuses it and the node asks again; nothing stale is ever written. The
// signs: another verifier connected, the database out of reach, one of the
// store's own node writes failing (a guard refused it, or its outcome is
// unknown), and a version read from the database (a GetNode, the trusted
// nodes' refresh) newer than the cached one while the store had no write
// of that node under way.
class NodeRowCache {
 public:
  using Steady = std::chrono::steady_clock;
  // Not solo before `opened` + `solo_after`: another verifier may be
  // writing rows this store is about to cache.
  NodeRowCache(std::size_t byte_budget, std::chrono::milliseconds solo_after,
               Steady::time_point opened);
  // The row, when the cached one is this version written by `row_xmin`
  // (the database just said so, asked at `asked_at`). `confirmed`: the row
  // counts as read (for ReadAt).
  std::optional<NodeRecord> Find(std::string_view node_id, std::int64_t version,
                                 std::int64_t row_xmin, bool confirmed,
                                 Steady::time_point asked_at);
  // The row at `version` written by `row_xmin`, when a confirmed read
  // found it.
  std::optional<NodeRecord> ReadAt(std::string_view node_id, std::int64_t version,
                                   std::int64_t row_xmin);
  // The cached row of this version, whatever wrote it: what the routine
  // update compares its cached states with, under its version check.
  std::shared_ptr<const NodeRecord> Stored(std::string_view node_id, std::int64_t version);
  // A row just read from the database (asked at `asked_at`); `confirmed` as
  // for Find. A row older than the cached one, or than one this store
  // committed (ForgetBelow), is a read that began before this store's own
  // write ended: the newer stands.
  void Put(NodeRecord node, std::int64_t row_xmin, bool confirmed, Steady::time_point asked_at);
  // After a routine update of `node` (node.version -> + 1) that wrote
  // `row_xmin`, sent at `asked_at`: the cached row at node.version with the
  // routine fields RecordRoutineUpdate writes taken from `node` (the others
  // it never writes); forgotten when that row is not cached.
  void PutRoutineUpdate(const NodeRecord& node, std::int64_t row_xmin, Steady::time_point asked_at);
  void Forget(std::string_view node_id);
  // After this store committed `version` of the row (its xmin unknown): no
  // read of an older version is cached again.
  void ForgetBelow(std::string_view node_id, std::int64_t version);

  // How long an Alone stands: the trust sweeper looks every second.
  static constexpr std::chrono::seconds kAloneFor = kPostgresLookStands;

  // The cached row, as a confirmed read, while solo at `now`; nullopt
  // otherwise, when none is cached, when the database last confirmed it
  // before the last sign of another writer (it may be that writer's older
  // row), or when it would refuse the challenge (pending approval, revoked):
  // a refusal is decided on a read, as nothing later would correct a stale
  // one.
  std::optional<NodeRecord> LastKnown(std::string_view node_id, Steady::time_point now);
  // No other verifier was connected to the database at `now`.
  void Alone(Steady::time_point now);
  // The database holds `version` of the row: a newer one than cached, with
  // no write of this store's under way, is another writer's (forgotten,
  // and solo ends); an older one is a read that began before this store's
  // write ended (kept).
  void Observe(std::string_view node_id, std::int64_t version, Steady::time_point now);
  // The database holds no such row: one cached was removed by someone else
  // (forgotten, and solo ends). Asking for a node that never was is no sign.
  void ObserveGone(std::string_view node_id, Steady::time_point now);
  // One of the store's own writes of the row failed: someone else may have
  // written it, or the write's outcome is unknown. Forgets it; solo ends.
  void Distrust(std::string_view node_id, Steady::time_point now);
  // Another verifier is connected, or the database is out of reach (what
  // others write goes unseen, and a challenge minted now would only be
  // refused at its answer).
  void EndSolo(Steady::time_point now);
  bool Solo(Steady::time_point now);

  // Marks a write of one node under way while it lives, so that seeing its
  // new version before the cache does is no sign of another writer.
  class WriteUnderWay {
   public:
    WriteUnderWay(NodeRowCache& cache, std::string node_id);
    ~WriteUnderWay();
    WriteUnderWay(const WriteUnderWay&) = delete;
    WriteUnderWay& operator=(const WriteUnderWay&) = delete;

   private:
    NodeRowCache& cache_;
    std::string node_id_;
  };

 private:
  struct Entry {
    std::shared_ptr<const NodeRecord> node;
    std::int64_t row_xmin = 0;
    std::size_t bytes = 0;
    std::list<std::string>::iterator recency;
    // A confirmed read found the row (not only this store's write of it).
    bool read = false;
    // When the read or the write that last showed the row began.
    Steady::time_point confirmed_at;
  };
  void PutLocked(NodeRecord node, std::int64_t row_xmin, bool read, Steady::time_point asked_at);
  void EraseLocked(std::string_view node_id);
  void ForgetBelowLocked(std::string_view node_id, std::int64_t version);
  void DistrustLocked(std::string_view node_id, Steady::time_point now);
  bool SoloLocked(Steady::time_point now) const;

  const std::size_t byte_budget_;
  const std::chrono::milliseconds solo_after_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> rows_;  // guarded by mutex_
  std::list<std::string> recency_;                  // most recent first
  std::size_t bytes_ = 0;
  std::map<std::string, int, std::less<>> writes_under_way_;  // guarded by mutex_
  // The version this store last committed of rows it forgot (ForgetBelow),
  // until a read of it or a newer one is cached.
  std::map<std::string, std::int64_t, std::less<>> committed_versions_;  // guarded by mutex_
  Steady::time_point other_writer_sign_;                                 // guarded by mutex_
  std::optional<Steady::time_point> alone_at_;                           // guarded by mutex_
};

// ---- postgres_session_locks.cpp ----------------------------------------
// The store's two session advisory locks, each on a connection of its own
// (reopened with backoff when it dies, which releases its lock): the
// ledger drain lock, one drainer per database at a time; and the presence
// lock every serving verifier holds shared, so each can count the others
// (solo mode, NodeRowCache).
class SessionLocks {
 public:
  SessionLocks(const std::string& url, const pg::ConnectOptions& options);
  // Never waits: nullptr when another drainer holds it. The lock holds the
  // drain connection until released.
  Result<std::unique_ptr<LedgerDrainLock>> TryLockLedgerDrain();
  // Takes this verifier's presence lock when no session holds it (the first
  // look, or after its session ended) and counts the other verifiers'. A
  // standby is an error: no verifier there is seen.
  Result<std::int64_t> AnnounceAndCountOtherVerifiers();

 private:
  std::mutex drain_mutex_;  // held by the drain lock while it lives
  pg::Reconnector drain_reconnector_;
  pg::Connection drain_connection_ = pg::Connection::Dead();
  std::mutex presence_mutex_;  // lends presence_connection_ to one look at a time
  pg::Reconnector presence_reconnector_;
  pg::Connection presence_connection_ = pg::Connection::Dead();
  std::int64_t instance_id_;  // guarded by presence_mutex_
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
