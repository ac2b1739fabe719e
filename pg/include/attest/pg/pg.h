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
// Messages name the operation and carry the server's primary message, never
// a password (a URL with one is refused).
//
// A Connection is thread-compatible: one thread at a time.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"

struct pg_conn;
struct pg_result;

namespace attest::pg {

// True when `error` says the connection died (or could not be made): the
// caller drops the Connection and retries on a new one.
bool IsConnectionLost(const Error& error);

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

struct ConnectOptions {
  // How long to wait for the server to accept the connection; the URL's own
  // connect_timeout wins.
  int connect_timeout_seconds = 10;
  // Shown in pg_stat_activity, unless the URL sets application_name.
  std::string application_name = "attest";
};

class Connection {
 public:
  // Connects to a postgresql:// (or postgres://) URL, e.g.
  // postgresql://verifier@db.example/attest?sslmode=verify-full. libpq reads
  // what the URL leaves out from its environment (PGHOST, PGSSLROOTCERT,
  // PGPASSFILE, ...). A URL with a password is refused: credentials go in a
  // passfile or the service's environment, never on a command line.
  static Result<Connection> Open(const std::string& url, const ConnectOptions& options = {});

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
  // The same for statements whose rows (if any) do not matter.
  Status Execute(std::string_view operation, const std::string& sql,
                 std::initializer_list<Param> params = {});
  // Several statements without parameters in one round trip (schema scripts).
  Status ExecuteScript(std::string_view operation, const std::string& sql);

  // False once libpq has seen the connection die.
  bool IsAlive() const;

 private:
  struct Finish {
    void operator()(pg_conn* connection) const;
  };
  explicit Connection(pg_conn* connection) : connection_(connection) {}
  Result<QueryResult> Check(std::string_view operation, pg_result* result);

  std::unique_ptr<pg_conn, Finish> connection_;
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
  static Result<Transaction> Begin(Connection& connection, const TransactionOptions& options = {});
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // After Commit, whether it succeeded or not, the transaction is over.
  Status Commit();
  // Ends it now, discarding its writes.
  Status Rollback();

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;  // null once ended
};

}  // namespace attest::pg
