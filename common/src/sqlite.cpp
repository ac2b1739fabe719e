#include "attest/sqlite.h"

#include <sqlite3.h>

namespace attest {
namespace {

ErrorCode CodeFor(int sqlite_code) {
  // A duplicate key is the one constraint failure a caller can act on: the
  // record is there already (as PostgreSQL's unique_violation).
  if (sqlite_code == SQLITE_CONSTRAINT_PRIMARYKEY || sqlite_code == SQLITE_CONSTRAINT_UNIQUE ||
      sqlite_code == SQLITE_CONSTRAINT_ROWID) {
    return ErrorCode::kAlreadyExists;
  }
  switch (sqlite_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kBusy;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return ErrorCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return ErrorCode::kIo;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::kCorrupt;
    default:
      return ErrorCode::kDatabase;
  }
}

Error ErrorFrom(sqlite3* db, int code, std::string_view action) {
  std::string message(action);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return MakeError(CodeFor(code), std::move(message));
}

}  // namespace

void SqliteStatement::Finalize::operator()(sqlite3_stmt* statement) const {
  sqlite3_finalize(statement);
}

Error SqliteStatement::LastError(std::string_view action) const {
  return ErrorFrom(db_, sqlite3_extended_errcode(db_), action);
}

Status SqliteStatement::BindInt64(int index, std::int64_t value) {
  if (sqlite3_bind_int64(statement_.get(), index, value) != SQLITE_OK) return LastError("bind");
  return OkStatus();
}

Status SqliteStatement::BindText(int index, std::string_view value) {
  if (sqlite3_bind_text64(statement_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                          SQLITE_UTF8) != SQLITE_OK) {
    return LastError("bind");
  }
  return OkStatus();
}

Status SqliteStatement::BindBlob(int index, ByteView value) {
  // A zero-length blob is bound as an empty blob, never as NULL.
  static const std::uint8_t kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  if (sqlite3_bind_blob64(statement_.get(), index, data, value.size(), SQLITE_TRANSIENT) !=
      SQLITE_OK) {
    return LastError("bind");
  }
  return OkStatus();
}

Status SqliteStatement::BindNull(int index) {
  if (sqlite3_bind_null(statement_.get(), index) != SQLITE_OK) return LastError("bind");
  return OkStatus();
}

Result<bool> SqliteStatement::Step() {
  int code = sqlite3_step(statement_.get());
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return ErrorFrom(db_, code, "step");
}

Status SqliteStatement::Run() {
  auto stepped = Step();
  Reset();
  if (!stepped.ok()) return stepped.error();
  return OkStatus();
}

void SqliteStatement::Reset() {
  sqlite3_reset(statement_.get());
  sqlite3_clear_bindings(statement_.get());
}

std::int64_t SqliteStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(statement_.get(), column);
}

std::string_view SqliteStatement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(statement_.get(), column);
  if (text == nullptr) return {};
  auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_.get(), column));
  return {reinterpret_cast<const char*>(text), size};
}

ByteView SqliteStatement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(statement_.get(), column);
  if (blob == nullptr) return {};
  auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_.get(), column));
  return {static_cast<const std::uint8_t*>(blob), size};
}

bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(statement_.get(), column) == SQLITE_NULL;
}

void SqliteDatabase::Close::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

Result<SqliteDatabase> SqliteDatabase::Open(const std::string& path, OpenMode mode) {
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case OpenMode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case OpenMode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case OpenMode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
  }
  sqlite3* raw = nullptr;
  int code = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteDatabase db(raw, path);  // owns `raw` even when opening failed
  if (code != SQLITE_OK) return ErrorFrom(raw, code, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Status SqliteDatabase::Execute(std::string_view sql) {
  std::string statement(sql);
  int code = sqlite3_exec(db_.get(), statement.c_str(), nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) return ErrorFrom(db_.get(), code, "execute");
  return OkStatus();
}

Result<SqliteStatement> SqliteDatabase::Prepare(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  int code = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (code != SQLITE_OK) return ErrorFrom(db_.get(), code, "prepare");
  return SqliteStatement(statement, db_.get());
}

bool SqliteDatabase::IsReadOnly() const { return sqlite3_db_readonly(db_.get(), "main") == 1; }

Error SqliteDatabase::LastError(std::string_view action) const {
  return ErrorFrom(db_.get(), sqlite3_extended_errcode(db_.get()), action);
}

Status SqliteDatabase::WithTransaction(const std::function<Status()>& body) {
  ATTEST_RETURN_IF_ERROR(Execute("BEGIN IMMEDIATE"));
  struct RollbackGuard {
    sqlite3* db;
    bool armed = true;
    ~RollbackGuard() {
      if (armed) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  } guard{db_.get()};
  ATTEST_RETURN_IF_ERROR(body());
  ATTEST_RETURN_IF_ERROR(Execute("COMMIT"));
  guard.armed = false;
  return OkStatus();
}

}  // namespace attest
