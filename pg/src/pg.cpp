#include "attest/pg/pg.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <vector>

#include <libpq-fe.h>

#include "src/connect_parameters.h"

namespace attest::pg {
namespace {

// Type OIDs from the server's catalog (pg_type.dat): stable since 7.x.
constexpr unsigned kBoolOid = 16;
constexpr unsigned kByteaOid = 17;
constexpr unsigned kNameOid = 19;
constexpr unsigned kInt8Oid = 20;
constexpr unsigned kInt2Oid = 21;
constexpr unsigned kInt4Oid = 23;
constexpr unsigned kTextOid = 25;
constexpr unsigned kBpcharOid = 1042;
constexpr unsigned kVarcharOid = 1043;

// Stands in for a SQLSTATE when libpq itself finds the connection dead.
constexpr const char* kConnectionFailure = "08006";
constexpr const char* kUnableToConnect = "08001";
constexpr const char* kTransactionResolutionUnknown = "08007";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

ErrorCode CodeForSqlState(std::string_view state) {
  if (state == "23505") return ErrorCode::kAlreadyExists;
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014") {
    return ErrorCode::kBusy;
  }
  if (StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03") {
    return ErrorCode::kIo;
  }
  if (StartsWith(state, "28") || state == "42501" || state == "25006") {
    return ErrorCode::kPermissionDenied;
  }
  return ErrorCode::kDatabase;
}

// libpq's messages end in a newline and may span lines; one line reads better
// after a context prefix.
std::string OneLine(std::string_view text) {
  std::string line(text);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  return line;
}

Error MakeDatabaseError(ErrorCode code, std::string message, std::string sqlstate) {
  Error error = MakeError(code, std::move(message));
  error.sqlstate = std::move(sqlstate);
  return error;
}

void WriteBigEndian(std::int64_t value, char out[8]) {
  auto bits = static_cast<std::uint64_t>(value);
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
}

std::int64_t ReadBigEndian(const char* in, int length) {
  std::uint64_t bits = 0;
  for (int i = 0; i < length; ++i) bits = (bits << 8) | static_cast<std::uint8_t>(in[i]);
  // Sign-extend int2 and int4.
  if (length < 8 && (bits >> (length * 8 - 1)) != 0) bits |= ~std::uint64_t{0} << (length * 8);
  return static_cast<std::int64_t>(bits);
}

// Keeps the server's chatter ("drop cascades to ...") out of a CLI's output;
// a WARNING is worth an operator's eye.
void ReceiveNotice(void* /*unused*/, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity == nullptr || std::strcmp(severity, "WARNING") != 0) return;
  std::fprintf(stderr, "PostgreSQL: %s", PQresultErrorMessage(notice));
}

}  // namespace

bool IsConnectionLost(const Error& error) {
  return error.code == ErrorCode::kIo && error.sqlstate.has_value() &&
         CodeForSqlState(*error.sqlstate) == ErrorCode::kIo;
}

bool IsCommitOutcomeUnknown(const Error& error) {
  return error.code == ErrorCode::kIo && error.sqlstate == kTransactionResolutionUnknown;
}

// ---- QueryResult ----

void QueryResult::Clear::operator()(pg_result* result) const { PQclear(result); }

int QueryResult::rows() const { return PQntuples(result_.get()); }
int QueryResult::columns() const { return PQnfields(result_.get()); }

std::string_view QueryResult::command_tag() const { return PQcmdStatus(result_.get()); }

std::uint64_t QueryResult::affected_rows() const {
  const char* count = PQcmdTuples(result_.get());
  return (count == nullptr || *count == '\0') ? 0 : std::strtoull(count, nullptr, 10);
}

Result<bool> QueryResult::IsNull(int row, int column) const {
  if (row < 0 || row >= rows() || column < 0 || column >= columns()) {
    return MakeError(ErrorCode::kInternal, "row " + std::to_string(row) + ", column " +
                                               std::to_string(column) + " is outside the result");
  }
  return PQgetisnull(result_.get(), row, column) != 0;
}

Result<const char*> QueryResult::Cell(int row, int column, std::initializer_list<unsigned> types,
                                      const char* type_name) const {
  ATTEST_ASSIGN_OR_RETURN(bool null, IsNull(row, column));
  const char* name = PQfname(result_.get(), column);
  const std::string where = std::string("column \"") + (name ? name : "?") + "\"";
  unsigned type = PQftype(result_.get(), column);
  bool expected = false;
  for (unsigned allowed : types) expected = expected || type == allowed;
  if (!expected) {
    return MakeError(ErrorCode::kCorrupt,
                     where + " has type oid " + std::to_string(type) + ", not " + type_name);
  }
  if (null) return MakeError(ErrorCode::kCorrupt, where + " is NULL");
  return PQgetvalue(result_.get(), row, column);
}

Result<std::int64_t> QueryResult::Int64(int row, int column) const {
  ATTEST_ASSIGN_OR_RETURN(const char* value,
                          Cell(row, column, {kInt2Oid, kInt4Oid, kInt8Oid}, "an integer"));
  int length = PQgetlength(result_.get(), row, column);
  if (length != 2 && length != 4 && length != 8) {
    return MakeError(ErrorCode::kCorrupt,
                     "an integer column holds " + std::to_string(length) + " bytes");
  }
  return ReadBigEndian(value, length);
}

Result<std::uint64_t> QueryResult::Uint64(int row, int column) const {
  ATTEST_ASSIGN_OR_RETURN(std::int64_t value, Int64(row, column));
  if (value < 0) {
    const char* name = PQfname(result_.get(), column);
    return MakeError(ErrorCode::kCorrupt, std::string("column \"") + (name ? name : "?") +
                                              "\" holds " + std::to_string(value) +
                                              " where a count cannot be negative");
  }
  return static_cast<std::uint64_t>(value);
}

Result<bool> QueryResult::Bool(int row, int column) const {
  ATTEST_ASSIGN_OR_RETURN(const char* value, Cell(row, column, {kBoolOid}, "boolean"));
  if (PQgetlength(result_.get(), row, column) != 1) {
    return MakeError(ErrorCode::kCorrupt, "a boolean column is not one byte");
  }
  return value[0] != 0;
}

Result<std::string_view> QueryResult::Text(int row, int column) const {
  ATTEST_ASSIGN_OR_RETURN(const char* value,
                          Cell(row, column, {kTextOid, kVarcharOid, kBpcharOid, kNameOid}, "text"));
  return std::string_view(value, static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

Result<ByteView> QueryResult::Bytes(int row, int column) const {
  ATTEST_ASSIGN_OR_RETURN(const char* value, Cell(row, column, {kByteaOid}, "bytea"));
  return ByteView(reinterpret_cast<const std::uint8_t*>(value),
                  static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

// ---- Connection ----

void Connection::Finish::operator()(pg_conn* connection) const { PQfinish(connection); }

Result<Connection> Connection::Open(const std::string& url, const ConnectOptions& options) {
  if (!StartsWith(url, "postgresql://") && !StartsWith(url, "postgres://")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a PostgreSQL database is named by a postgresql:// URL");
  }
  ATTEST_ASSIGN_OR_RETURN(ConnectParameters parameters, BuildConnectParameters(url, options));
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : parameters.keywords) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  Connection connection(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (connection.connection_ == nullptr) {
    return MakeError(ErrorCode::kInternal, "connect to PostgreSQL: out of memory");
  }
  PQsetNoticeReceiver(connection.connection_.get(), ReceiveNotice, nullptr);
  if (PQstatus(connection.connection_.get()) != CONNECTION_OK) {
    std::string why = OneLine(PQerrorMessage(connection.connection_.get()));
    if (PQconnectionNeedsPassword(connection.connection_.get()) != 0) {
      return MakeDatabaseError(ErrorCode::kPermissionDenied,
                               "connect to PostgreSQL: the server wants a password and none was "
                               "found (put it in a passfile, PGPASSFILE): " +
                                   why,
                               "28P01");
    }
    if (why.find("authentication failed") != std::string::npos) {
      return MakeDatabaseError(ErrorCode::kPermissionDenied, "connect to PostgreSQL: " + why,
                               "28000");
    }
    return MakeDatabaseError(ErrorCode::kIo, "connect to PostgreSQL: " + why, kUnableToConnect);
  }
  ATTEST_RETURN_IF_ERROR(connection.SetSessionTimeouts(options, parameters.url_options));
  return connection;
}

Status Connection::SetSessionTimeouts(const ConnectOptions& options,
                                      const std::string& url_options) {
  // One round trip; a timeout the URL's startup options set is left alone.
  auto value = [&url_options](const char* name, int milliseconds) {
    return url_options.find(name) != std::string::npos ? std::string()
                                                       : std::to_string(milliseconds);
  };
  return Execute("set the session timeouts",
                 "SELECT set_config('statement_timeout', $1, false) WHERE $1 <> '' "
                 "UNION ALL SELECT set_config('idle_in_transaction_session_timeout', $2, false) "
                 "WHERE $2 <> ''",
                 {Param::Text(value("statement_timeout", options.statement_timeout_ms)),
                  Param::Text(value("idle_in_transaction_session_timeout",
                                    options.idle_in_transaction_timeout_ms))});
}

bool Connection::IsAlive() const { return PQstatus(connection_.get()) == CONNECTION_OK; }

Connection::TransactionState Connection::transaction_state() const {
  switch (PQtransactionStatus(connection_.get())) {
    case PQTRANS_IDLE:
      return TransactionState::kIdle;
    case PQTRANS_INTRANS:
      return TransactionState::kInTransaction;
    case PQTRANS_INERROR:
      return TransactionState::kFailed;
    default:
      return TransactionState::kOther;  // a command in progress, or no connection
  }
}

Result<QueryResult> Connection::Check(std::string_view operation, pg_result* raw) {
  QueryResult result(raw);
  ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;

  const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = raw ? PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = std::string(operation) + ": ";
  message += primary ? OneLine(primary) : OneLine(PQerrorMessage(connection_.get()));
  std::string sqlstate = state ? state : "";
  if (!IsAlive() && CodeForSqlState(sqlstate) != ErrorCode::kIo) {
    // The server went away mid-call; whatever it said last, only a new
    // connection can go on.
    sqlstate = kConnectionFailure;
    message += " (connection lost)";
  }
  if (sqlstate.empty()) {
    return MakeError(ErrorCode::kDatabase, message);
  }
  message += " (SQLSTATE " + sqlstate + ")";
  const ErrorCode code = CodeForSqlState(sqlstate);
  return MakeDatabaseError(code, std::move(message), std::move(sqlstate));
}

Result<QueryResult> Connection::Query(std::string_view operation, const std::string& sql,
                                      std::span<const Param> params) {
  return Send(operation, &sql, nullptr, params);
}

Result<QueryResult> Connection::QueryPrepared(std::string_view operation, const std::string& sql,
                                              std::span<const Param> params) {
  auto found = prepared_.find(sql);
  if (found == prepared_.end()) {
    std::string name = "attest_" + std::to_string(prepared_.size() + 1);
    // The first call's parameters fix the types, as Query sends them: bytea
    // and int8 by kind, text and NULL left to the statement's context.
    std::vector<unsigned> types;
    for (const Param& param : params) {
      types.push_back(param.kind_ == Param::Kind::kBytes   ? kByteaOid
                      : param.kind_ == Param::Kind::kInt64 ? kInt8Oid
                                                           : 0);
    }
    ATTEST_ASSIGN_OR_RETURN(
        QueryResult prepared,
        Check(operation, PQprepare(connection_.get(), name.c_str(), sql.c_str(),
                                   static_cast<int>(types.size()), types.data())));
    (void)prepared;
    found = prepared_.emplace(sql, std::move(name)).first;
  }
  return Send(operation, nullptr, &found->second, params);
}

Result<QueryResult> Connection::Send(std::string_view operation, const std::string* sql,
                                     const std::string* prepared_name,
                                     std::span<const Param> params) {
  const std::size_t count = params.size();
  std::vector<unsigned> types(count, 0);
  std::vector<const char*> values(count, nullptr);
  std::vector<int> lengths(count, 0);
  std::vector<int> formats(count, 0);
  std::vector<std::array<char, 8>> integers(count);
  std::vector<std::string> texts(count);  // libpq wants text parameters NUL-terminated
  static const char kEmpty = '\0';
  for (std::size_t i = 0; i < count; ++i) {
    const Param& param = params[i];
    switch (param.kind_) {
      case Param::Kind::kText:
        texts[i].assign(AsText(param.bytes_));
        if (texts[i].find('\0') != std::string::npos) {
          return MakeError(ErrorCode::kInvalidArgument,
                           std::string(operation) + ": parameter $" + std::to_string(i + 1) +
                               " holds a NUL character, which PostgreSQL text cannot");
        }
        values[i] = texts[i].c_str();
        break;
      case Param::Kind::kBytes:
        values[i] =
            param.bytes_.empty() ? &kEmpty : reinterpret_cast<const char*>(param.bytes_.data());
        lengths[i] = static_cast<int>(param.bytes_.size());
        formats[i] = 1;
        types[i] = kByteaOid;
        break;
      case Param::Kind::kInt64:
        WriteBigEndian(param.integer_, integers[i].data());
        values[i] = integers[i].data();
        lengths[i] = 8;
        formats[i] = 1;
        types[i] = kInt8Oid;
        break;
      case Param::Kind::kNull:
        break;
    }
  }
  pg_result* raw =
      prepared_name != nullptr
          ? PQexecPrepared(connection_.get(), prepared_name->c_str(), static_cast<int>(count),
                           values.data(), lengths.data(), formats.data(), /*resultFormat=*/1)
          : PQexecParams(connection_.get(), sql->c_str(), static_cast<int>(count), types.data(),
                         values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
  return Check(operation, raw);
}

Status Connection::Execute(std::string_view operation, const std::string& sql,
                           std::initializer_list<Param> params) {
  ATTEST_ASSIGN_OR_RETURN(QueryResult ignored, Query(operation, sql, params));
  (void)ignored;
  return OkStatus();
}

Status Connection::ExecutePrepared(std::string_view operation, const std::string& sql,
                                   std::initializer_list<Param> params) {
  ATTEST_ASSIGN_OR_RETURN(QueryResult ignored, QueryPrepared(operation, sql, params));
  (void)ignored;
  return OkStatus();
}

Status Connection::ExecuteScript(std::string_view operation, const std::string& sql) {
  ATTEST_ASSIGN_OR_RETURN(QueryResult ignored,
                          Check(operation, PQexec(connection_.get(), sql.c_str())));
  (void)ignored;
  return OkStatus();
}

// ---- Transaction ----

Result<Transaction> Transaction::Begin(Connection& connection, const TransactionOptions& options) {
  std::string sql = "BEGIN ISOLATION LEVEL ";
  switch (options.isolation) {
    case Isolation::kReadCommitted:
      sql += "READ COMMITTED";
      break;
    case Isolation::kRepeatableRead:
      sql += "REPEATABLE READ";
      break;
    case Isolation::kSerializable:
      sql += "SERIALIZABLE";
      break;
  }
  // Without READ ONLY the session's default_transaction_read_only decides,
  // so a session made read-only stays so.
  if (options.read_only) sql += " READ ONLY";
  if (connection.IsAlive() &&
      connection.transaction_state() != Connection::TransactionState::kIdle) {
    return MakeError(ErrorCode::kInternal,
                     "begin transaction: the connection is already inside a transaction");
  }
  ATTEST_RETURN_IF_ERROR(connection.Execute("begin transaction", sql));
  return Transaction(connection);
}

Transaction::Transaction(Transaction&& other) noexcept : connection_(other.connection_) {
  other.connection_ = nullptr;
}

Transaction::~Transaction() {
  if (connection_ != nullptr) (void)Rollback();
}

Status Transaction::Commit() {
  Connection* connection = connection_;
  connection_ = nullptr;
  if (connection == nullptr) return MakeError(ErrorCode::kInternal, "commit: no transaction");
  if (connection->IsAlive()) {
    const Connection::TransactionState state = connection->transaction_state();
    if (state == Connection::TransactionState::kFailed) {
      (void)connection->Execute("rollback", "ROLLBACK");
      return MakeError(ErrorCode::kDatabase,
                       "commit: the transaction was rolled back (an earlier statement failed)");
    }
    if (state != Connection::TransactionState::kInTransaction) {
      return MakeError(ErrorCode::kInternal, "commit: the connection is not in a transaction");
    }
  }
  // A connection already dead before COMMIT: the server rolls the
  // transaction back, and the error below is an ordinary connection loss.
  const bool alive_before = connection->IsAlive();
  Result<QueryResult> result = connection->Query("commit", "COMMIT");
  if (!result.ok()) {
    if (alive_before && (IsConnectionLost(result.error()) || !connection->IsAlive())) {
      return MakeDatabaseError(ErrorCode::kIo,
                               "commit: the connection was lost after COMMIT was sent, so the "
                               "transaction may or may not have committed (" +
                                   result.error().message + ")",
                               kTransactionResolutionUnknown);
    }
    return result.error();
  }
  // COMMIT of a transaction a failed statement aborted succeeds as ROLLBACK.
  if (result->command_tag() != "COMMIT") {
    return MakeError(ErrorCode::kDatabase,
                     "commit: the transaction was rolled back (an earlier statement failed)");
  }
  return OkStatus();
}

Status Transaction::Rollback() {
  Connection* connection = connection_;
  connection_ = nullptr;
  if (connection == nullptr) return OkStatus();
  if (!connection->IsAlive()) return OkStatus();  // the server already discarded it
  const Connection::TransactionState state = connection->transaction_state();
  if (state != Connection::TransactionState::kInTransaction &&
      state != Connection::TransactionState::kFailed) {
    return MakeError(ErrorCode::kInternal, "rollback: the connection is not in a transaction");
  }
  return connection->Execute("rollback", "ROLLBACK");
}

}  // namespace attest::pg
