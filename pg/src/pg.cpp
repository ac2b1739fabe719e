#include "attest/pg/pg.h"

#include <array>
#include <cstring>
#include <vector>

#include <libpq-fe.h>

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

}  // namespace

bool IsConnectionLost(const Error& error) {
  return error.code == ErrorCode::kIo && error.sqlstate.has_value() &&
         CodeForSqlState(*error.sqlstate) == ErrorCode::kIo;
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
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string why = parse_error ? OneLine(parse_error) : "out of memory";
    PQfreemem(parse_error);
    return MakeError(ErrorCode::kInvalidArgument, "not a valid PostgreSQL URL: " + why);
  }
  bool has_password = false;
  for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (std::strcmp(option->keyword, "password") == 0 && option->val != nullptr &&
        option->val[0] != '\0') {
      has_password = true;
    }
  }
  PQconninfoFree(parsed);
  if (has_password) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the PostgreSQL URL carries a password: remove it, and put the password in "
                     "a passfile (PGPASSFILE) or the service's environment instead");
  }

  // The URL comes last and is expanded in place, so what it says wins.
  const std::string timeout = std::to_string(options.connect_timeout_seconds);
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "client_encoding",
                            "dbname", nullptr};
  const char* values[] = {timeout.c_str(), options.application_name.c_str(), "UTF8", url.c_str(),
                          nullptr};
  Connection connection(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (connection.connection_ == nullptr) {
    return MakeError(ErrorCode::kInternal, "connect to PostgreSQL: out of memory");
  }
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
  return connection;
}

bool Connection::IsAlive() const { return PQstatus(connection_.get()) == CONNECTION_OK; }

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
  pg_result* raw = PQexecParams(connection_.get(), sql.c_str(), static_cast<int>(count),
                                types.data(), values.data(), lengths.data(), formats.data(),
                                /*resultFormat=*/1);
  return Check(operation, raw);
}

Status Connection::Execute(std::string_view operation, const std::string& sql,
                           std::initializer_list<Param> params) {
  ATTEST_ASSIGN_OR_RETURN(QueryResult ignored, Query(operation, sql, params));
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
  ATTEST_ASSIGN_OR_RETURN(QueryResult result, connection->Query("commit", "COMMIT"));
  // COMMIT of a transaction a failed statement aborted succeeds as ROLLBACK.
  if (result.command_tag() != "COMMIT") {
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
  return connection->Execute("rollback", "ROLLBACK");
}

}  // namespace attest::pg
