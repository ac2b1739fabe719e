// A small RAII layer over libpq, the PostgreSQL C client: a connection opened
// from a postgresql:// URL, parameterised queries, bounds- and type-checked
// result accessors, a transaction guard, and server errors mapped onto
// attest::Error codes by SQLSTATE. The PostgreSQL stores build on it.
//
// Errors (the SQLSTATE, or a stand-in for a dead connection, is in
// Error::sqlstate):
//   kAlreadyExists     23505 unique_violation
//   kBusy              40001 serialization failure, 40P01 deadlock, 55P03 lock
//                      not available (lock_timeout), 57014 statement timeout:
//                      the transaction was rolled back; running it again may
//                      succeed
//   kIo                the connection is gone (class 08, 57P01-57P03 shutdown,
//                      or libpq reports CONNECTION_BAD): IsConnectionLost()
//                      is true, and only a new connection can go on
//   kPermissionDenied  class 28 (authentication), 42501 insufficient
//                      privilege, 25006 a write in a read-only transaction
//   kDatabase          anything else the server or libpq reports
//   kIo, sqlstate 08007 (transaction_resolution_unknown): Transaction::Commit
//                      lost the connection after sending COMMIT, so the
//                      transaction may or may not have committed:
//                      IsCommitOutcomeUnknown() is true (and IsConnectionLost);
//                      do not simply run it again, look for its writes first
//   kInternal          a transaction call in the wrong state (Begin inside a
//                      transaction, Commit outside one)
// Messages name the operation and carry the server's primary message, never
// a password (a URL with one is refused).
//
// A Connection is thread-compatible: one thread at a time. The server's
// NOTICE, INFO and DEBUG messages are dropped; WARNINGs go to stderr.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "attest/bytes.h"
#include "attest/error.h"

struct pg_conn;
struct pg_result;

namespace attest::pg {

// True when `error` says the connection died (or could not be made): the
// caller drops the Connection and retries on a new one.
bool IsConnectionLost(const Error& error);

// True when `error` says a COMMIT was sent but its answer never came (the
// connection died): the transaction may have committed. The caller finds out
// on a new connection by looking for what the transaction wrote.
bool IsCommitOutcomeUnknown(const Error& error);

// One query parameter. Text is sent in text format and typed by the server
// from the query's context (it holds no NUL); bytes go as binary bytea,
// integers as binary int8.
class Param {
 public:
  static Param Text(std::string_view text) { return Param(Kind::kText, AsBytes(text), 0); }
  static Param Bytes(ByteView bytes) { return Param(Kind::kBytes, bytes, 0); }
  static Param Int64(std::int64_t value) { return Param(Kind::kInt64, {}, value); }
  static Param Null() { return Param(Kind::kNull, {}, 0); }

 private:
  friend class Connection;
  enum class Kind { kText, kBytes, kInt64, kNull };
  Param(Kind kind, ByteView bytes, std::int64_t integer)
      : kind_(kind), bytes_(bytes), integer_(integer) {}
  Kind kind_;
  ByteView bytes_;  // not owned: valid for the duration of the call
  std::int64_t integer_;
};

// The rows of one query, in binary format. Accessors check the row and
// column (kInternal when out of range), the column's type (kCorrupt when the
// schema holds another) and NULL (kCorrupt; ask IsNull first where NULL is
// allowed).
class QueryResult {
 public:
  QueryResult(QueryResult&&) noexcept = default;
  QueryResult& operator=(QueryResult&&) noexcept = default;

  int rows() const;
  int columns() const;
  // The server's command tag: "INSERT 0 1", "COMMIT", ...
  std::string_view command_tag() const;
  // Rows an INSERT/UPDATE/DELETE touched.
  std::uint64_t affected_rows() const;

  Result<bool> IsNull(int row, int column) const;
  // int2, int4 or int8.
  Result<std::int64_t> Int64(int row, int column) const;
  // The same, for counts, sizes and sequence numbers: kCorrupt when negative.
  Result<std::uint64_t> Uint64(int row, int column) const;
  Result<bool> Bool(int row, int column) const;
  // text, varchar, char(n) or name. The view lives as long as this result.
  Result<std::string_view> Text(int row, int column) const;
  // bytea. The view lives as long as this result.
  Result<ByteView> Bytes(int row, int column) const;

 private:
  friend class Connection;
  struct Clear {
    void operator()(pg_result* result) const;
  };
  explicit QueryResult(pg_result* result) : result_(result) {}
  Result<const char*> Cell(int row, int column, std::initializer_list<unsigned> types,
                           const char* type_name) const;

  std::unique_ptr<pg_result, Clear> result_;
};

// What Open sets unless the URL says otherwise. Without the URL's say, it
// also turns on TCP keepalives (idle 10 s, every 5 s, 3 probes) and
// tcp_user_timeout=30000, so a dead peer shows in about 30 s, not hours.
struct ConnectOptions {
  // How long to wait for the server to accept the connection; the URL's own
  // connect_timeout wins.
  int connect_timeout_seconds = 10;
  // Shown in pg_stat_activity, unless the URL sets application_name.
  std::string application_name = "attest";
  // TLS: when neither the URL nor PGSSLMODE sets sslmode, Open uses
  // verify-full (the server's certificate must chain to sslrootcert and name
  // the host). To a TCP host, sslmode disable, allow, prefer and require are
  // refused (kInvalidArgument) unless this is true; a unix socket needs no
  // TLS.
  bool allow_insecure_transport = false;
  // target_session_attrs=read-write (unless the URL sets it): of several
  // hosts, connect to the one accepting writes, e.g. the primary after a
  // failover, rather than a standby that refuses every write.
  bool read_write = false;
  // Session timeouts set right after connecting (0: the server's default),
  // unless the URL's `options` sets them: a statement running longer is
  // cancelled (kBusy), and a session idle inside a transaction that long is
  // ended by the server, freeing the locks it held.
  int statement_timeout_ms = 60000;
  int idle_in_transaction_timeout_ms = 30000;
};

class Connection {
 public:
  // Connects to a postgresql:// (or postgres://) URL, e.g.
  // postgresql://verifier@db.example/attest?sslrootcert=/etc/attest/db-ca.pem.
  // libpq reads what the URL leaves out from its environment (PGHOST,
  // PGSSLROOTCERT, PGPASSFILE, ...). A URL with a password or sslpassword is
  // refused: credentials go in a passfile or the service's environment,
  // never on a command line. See ConnectOptions for TLS and the defaults.
  static Result<Connection> Open(const std::string& url, const ConnectOptions& options = {});

  // A connection that was never made: IsAlive() is false and every call
  // fails as on a lost connection. A placeholder until Reconnector (reconnect.h)
  // opens it.
  static Connection Dead() { return Connection(nullptr); }

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  // Runs one statement with $1, $2, ... bound to `params`; `operation` names
  // it in error messages ("insert entry"). Results come in binary format.
  Result<QueryResult> Query(std::string_view operation, const std::string& sql,
                            std::span<const Param> params = {});
  Result<QueryResult> Query(std::string_view operation, const std::string& sql,
                            std::initializer_list<Param> params) {
    return Query(operation, sql, std::span<const Param>(params.begin(), params.size()));
  }
  // The same through a statement prepared once per connection (on its first
  // use) and reused: the server parses and plans it once. For the hot paths;
  // `sql` is the cache key, so it must be a fixed text, never built from data.
  Result<QueryResult> QueryPrepared(std::string_view operation, const std::string& sql,
                                    std::span<const Param> params = {});
  Result<QueryResult> QueryPrepared(std::string_view operation, const std::string& sql,
                                    std::initializer_list<Param> params) {
    return QueryPrepared(operation, sql, std::span<const Param>(params.begin(), params.size()));
  }
  // The same for statements whose rows (if any) do not matter.
  Status Execute(std::string_view operation, const std::string& sql,
                 std::initializer_list<Param> params = {});
  // The same through a prepared statement (QueryPrepared).
  Status ExecutePrepared(std::string_view operation, const std::string& sql,
                         std::initializer_list<Param> params = {});
  // Several statements without parameters in one round trip (schema scripts).
  Status ExecuteScript(std::string_view operation, const std::string& sql);

  // False once libpq has seen the connection die.
  bool IsAlive() const;

 private:
  struct Finish {
    void operator()(pg_conn* connection) const;
  };
  friend class Transaction;
  explicit Connection(pg_conn* connection) : connection_(connection) {}
  Status SetSessionTimeouts(const ConnectOptions& options, const std::string& url_options);
  // libpq's PGTransactionStatusType: idle, in a transaction, in a failed one.
  enum class TransactionState { kIdle, kInTransaction, kFailed, kOther };
  TransactionState transaction_state() const;
  Result<QueryResult> Check(std::string_view operation, pg_result* result);
  Result<QueryResult> Send(std::string_view operation, const std::string* sql,
                           const std::string* prepared_name, std::span<const Param> params);

  std::unique_ptr<pg_conn, Finish> connection_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
};

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

struct TransactionOptions {
  Isolation isolation = Isolation::kReadCommitted;
  bool read_only = false;
};

// BEGIN on construction (through Begin), ROLLBACK on destruction unless
// Commit succeeded: a transaction left by an error or an exception leaves
// nothing. The Connection must outlive it.
class Transaction {
 public:
  // kInternal when the connection is already inside a transaction (no
  // nesting: an inner BEGIN would be ignored, and its COMMIT would end the
  // outer one).
  static Result<Transaction> Begin(Connection& connection, const TransactionOptions& options = {});
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // After Commit, whether it succeeded or not, the transaction is over. A
  // transaction a failed statement aborted is rolled back (kDatabase). When
  // the connection dies after COMMIT was sent, the outcome is unknown:
  // IsCommitOutcomeUnknown(error).
  Status Commit();
  // Ends it now, discarding its writes.
  Status Rollback();

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;  // null once ended
};

}  // namespace attest::pg
