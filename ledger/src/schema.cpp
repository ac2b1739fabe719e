#include "src/schema.h"

#include <array>
#include <string_view>

namespace attest::ledger {
namespace {

// "ALDG": identifies a ledger file to `file(1)`-style tools and to us.
constexpr std::int64_t kApplicationId = 0x414c4447;

// Append-only is enforced twice: by this program, and by triggers that make
// an accidental UPDATE or DELETE fail loudly. Neither stops someone who can
// write the file; `ledger verify` and signed checkpoints catch that.
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE ledger_meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE entries(
  seq INTEGER PRIMARY KEY CHECK (seq >= 1),
  time TEXT NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  payload TEXT NOT NULL,
  public_key BLOB,
  signature BLOB,
  entry_hash BLOB NOT NULL,
  chain_hash BLOB NOT NULL
);

CREATE TABLE merkle_nodes(
  last_leaf INTEGER NOT NULL,
  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 63),
  hash BLOB NOT NULL,
  PRIMARY KEY (last_leaf, level)
) WITHOUT ROWID;

CREATE TABLE checkpoints(
  tree_size INTEGER PRIMARY KEY,
  root_hash BLOB NOT NULL,
  note TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE ON merkle_nodes
  BEGIN SELECT RAISE(ABORT, 'Merkle nodes are append-only'); END;
CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
  BEGIN SELECT RAISE(ABORT, 'Merkle nodes are append-only'); END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
)sql",
};

constexpr std::int64_t kCurrentVersion = static_cast<std::int64_t>(kMigrations.size());

Result<std::int64_t> ReadPragma(SqliteDatabase& db, std::string_view pragma) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement, db.Prepare("PRAGMA " + std::string(pragma)));
  ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
  return has_row ? statement.ColumnInt64(0) : 0;
}

Result<std::int64_t> AppliedVersion(SqliteDatabase& db) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement,
                          db.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
  return has_row ? statement.ColumnInt64(0) : 0;
}

Status ApplyFrom(SqliteDatabase& db, std::int64_t applied) {
  for (std::int64_t version = applied + 1; version <= kCurrentVersion; ++version) {
    ATTEST_RETURN_IF_ERROR(db.Execute(kMigrations[static_cast<std::size_t>(version - 1)]));
    ATTEST_RETURN_IF_ERROR(
        db.Execute("INSERT INTO schema_migrations(version, applied_at) VALUES (" +
                   std::to_string(version) + ", strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"));
  }
  return OkStatus();
}

}  // namespace

Status CreateSchema(SqliteDatabase& db) {
  // journal_mode and application_id cannot change inside a transaction.
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA journal_mode = WAL"));
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA application_id = " + std::to_string(kApplicationId)));
  return db.WithTransaction([&]() -> Status {
    ATTEST_RETURN_IF_ERROR(db.Execute(
        "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
    return ApplyFrom(db, 0);
  });
}

Status CheckOrMigrateSchema(SqliteDatabase& db, const std::string& path, bool read_only) {
  auto application_id = ReadPragma(db, "application_id");
  if (!application_id.ok()) {
    return application_id.error().WithContext(path + ": not a readable SQLite database");
  }
  if (*application_id != kApplicationId) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": not a ledger database");
  }
  ATTEST_ASSIGN_OR_RETURN(std::int64_t applied, AppliedVersion(db));
  if (applied > kCurrentVersion) {
    return MakeError(ErrorCode::kUnsupported,
                     path + ": ledger schema version " + std::to_string(applied) +
                         " is newer than this program understands (" +
                         std::to_string(kCurrentVersion) + "); upgrade the ledger tools");
  }
  if (applied == kCurrentVersion) return OkStatus();
  if (read_only) {
    return MakeError(ErrorCode::kUnsupported, path + ": ledger schema version " +
                                                  std::to_string(applied) +
                                                  " needs migrating; open it once read-write");
  }
  return db.WithTransaction([&]() -> Status {
    ATTEST_ASSIGN_OR_RETURN(std::int64_t now_applied, AppliedVersion(db));  // under the lock
    return ApplyFrom(db, now_applied);
  });
}

}  // namespace attest::ledger
