// RAII owners for SQLite connections and prepared statements, SQLite result
// codes mapped onto ErrorCode, and the one way to write: WithTransaction.
// A connection is thread-compatible (one thread at a time), as SQLite's
// default multi-thread mode requires.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace attest {

class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&&) noexcept = default;
  SqliteStatement& operator=(SqliteStatement&&) noexcept = default;

  // Parameter indexes start at 1, as in SQLite. Text and blobs are copied.
  Status BindInt64(int index, std::int64_t value);
  Status BindText(int index, std::string_view value);
  Status BindBlob(int index, ByteView value);
  Status BindNull(int index);

  // True when a row is ready to read, false when the statement is done.
  Result<bool> Step();
  // Runs a statement that returns no rows (or ignores them).
  Status Run();
  // Makes the statement reusable with new bindings.
  void Reset();

  // Column indexes start at 0. Views stay valid until the next Step or Reset.
  std::int64_t ColumnInt64(int column) const;
  std::string_view ColumnText(int column) const;
  ByteView ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  friend class SqliteDatabase;
  struct Finalize {
    void operator()(sqlite3_stmt* statement) const;
  };
  SqliteStatement(sqlite3_stmt* statement, sqlite3* db) : statement_(statement), db_(db) {}
  Error LastError(std::string_view action) const;

  std::unique_ptr<sqlite3_stmt, Finalize> statement_;
  sqlite3* db_;  // not owned
};

class SqliteDatabase {
 public:
  enum class OpenMode {
    kReadOnly,
    kReadWrite,        // the file must exist
    kReadWriteCreate,  // creates the file when missing
  };

  static Result<SqliteDatabase> Open(const std::string& path, OpenMode mode);

  SqliteDatabase(SqliteDatabase&&) noexcept = default;
  SqliteDatabase& operator=(SqliteDatabase&&) noexcept = default;

  // Runs one or more statements that return no rows.
  Status Execute(std::string_view sql);
  Result<SqliteStatement> Prepare(std::string_view sql);

  // True when the OS let SQLite open the file for reading only (for example
  // the file is not writable by this user).
  bool IsReadOnly() const;
  const std::string& path() const { return path_; }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT: the write lock is taken
  // first (waiting up to the busy timeout), so concurrent writers queue
  // instead of failing at commit. Any error from `body`, or an exception
  // thrown by it, rolls everything back.
  Status WithTransaction(const std::function<Status()>& body);

  Error LastError(std::string_view action) const;

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  std::unique_ptr<sqlite3, Close> db_;
  std::string path_;
};

}  // namespace attest
