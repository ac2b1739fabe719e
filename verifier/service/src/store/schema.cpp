// The service database's schema as numbered migrations, and how every
// connection to it is set up (WAL, foreign keys, busy timeout).
#include <array>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/service/sqlite_store.h"

#include "src/store/sqlite_internal.h"
#include "src/store/wal_checkpointer.h"

namespace attest::service::internal {
namespace {

// "AVSS": marks the file as a verifier service store.
constexpr std::int64_t kApplicationId = 0x41565353;
constexpr int kBusyTimeoutMs = 10000;

// Migration N (1-based) takes the schema from version N-1 to N. Released
// migrations are never edited; a change is a new one. STRICT tables keep
// every column the type the readers expect.
constexpr std::array<std::string_view, 6> kMigrations = {
    R"sql(
CREATE TABLE nodes(
  node_id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL,
  ek_public BLOB NOT NULL,
  ek_certificate BLOB,
  ak_public BLOB NOT NULL,
  state TEXT NOT NULL,
  enrolled_at INTEGER NOT NULL,
  last_attestation INTEGER,
  last_verdict TEXT NOT NULL,
  last_clock INTEGER,
  last_reset_count INTEGER,
  last_restart_count INTEGER,
  boot_reset_count INTEGER,
  boot_restart_count INTEGER,
  boot_log_digest BLOB,
  boot_state TEXT,
  reenroll_allowed_until INTEGER,
  version INTEGER NOT NULL
) STRICT;
CREATE INDEX nodes_by_state ON nodes(state, node_id);

CREATE TABLE enrollments(
  enrollment_id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL,
  hostname TEXT NOT NULL,
  ek_public BLOB NOT NULL,
  ek_certificate BLOB,
  ak_public BLOB NOT NULL,
  secret_digest BLOB NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  failed_attempts INTEGER NOT NULL
) STRICT;

CREATE TABLE certificates(
  serial_hex TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes(node_id),
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  certificate_pem TEXT NOT NULL,
  revoked_at INTEGER,
  revocation_reason TEXT NOT NULL
) STRICT;
CREATE INDEX certificates_by_node ON certificates(node_id);
CREATE INDEX certificates_revoked ON certificates(not_after) WHERE revoked_at IS NOT NULL;

CREATE TABLE tokens(
  token_id TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  label TEXT NOT NULL,
  secret_digest BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

CREATE TABLE policies(
  serial INTEGER PRIMARY KEY,
  document TEXT NOT NULL,
  envelope TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT;

CREATE TABLE crl_number(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
) STRICT;

-- AUTOINCREMENT: an id is never reused after the outbox empties, which the
-- ledger writer's exactly-once check relies on.
CREATE TABLE ledger_outbox(
  outbox_id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
) STRICT;
)sql",
    // 2: the runtime cursor (docs/protocol.md §6): all NULL or all set.
    R"sql(
ALTER TABLE nodes ADD COLUMN runtime_reset_count INTEGER;
ALTER TABLE nodes ADD COLUMN runtime_restart_count INTEGER;
ALTER TABLE nodes ADD COLUMN runtime_entries INTEGER;
ALTER TABLE nodes ADD COLUMN runtime_state TEXT;
)sql",
    // 3: the ledger drain's intent (ledger_writer.cpp), written before a
    // batch goes to the ledger and removed with the batch's outbox rows.
    R"sql(
CREATE TABLE ledger_drain(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_outbox_id INTEGER NOT NULL CHECK (last_outbox_id >= 1),
  ledger_size_before INTEGER NOT NULL CHECK (ledger_size_before >= 0)
) STRICT;
)sql",
    // 4: enrollments are written compare-and-set on a version, as nodes
    // are; a row from before counts as written once.
    R"sql(
ALTER TABLE enrollments ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
)sql",
    // 5: challenges shared by every verifier on the database (issue 14).
    // A nonce is issued once (UNIQUE) and redeemed once: the redemption is
    // a row whose primary key is the challenge's. AUTOINCREMENT: ids order
    // the challenges by issue, and are never reused.
    R"sql(
CREATE TABLE challenges(
  challenge_id INTEGER PRIMARY KEY AUTOINCREMENT,
  nonce BLOB NOT NULL UNIQUE CHECK (length(nonce) = 32),
  node_id TEXT NOT NULL,
  requester TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX challenges_by_node ON challenges(node_id, requester);
CREATE INDEX challenges_by_expiry ON challenges(expires_at);
CREATE TABLE challenge_redemptions(
  challenge_id INTEGER PRIMARY KEY REFERENCES challenges(challenge_id) ON DELETE CASCADE,
  redeemed_at INTEGER NOT NULL
) STRICT;
)sql",
    // 6: the verifiers mint challenge nonces that name their node and
    // expiry under a shared key (api/challenge_nonce.h): issued ones are not
    // stored, answered ones are, once, under the nonce.
    R"sql(
DROP TABLE challenge_redemptions;
DROP TABLE challenges;
CREATE TABLE answered_challenges(
  nonce BLOB PRIMARY KEY CHECK (length(nonce) = 32),
  node_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX answered_challenges_by_expiry ON answered_challenges(expires_at);
CREATE TABLE answered_challenges_horizon(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pruned_before INTEGER NOT NULL
) STRICT;
)sql",
};

static_assert(kMigrations.size() == static_cast<std::size_t>(kServiceSchemaVersion),
              "kServiceSchemaVersion must name the last migration");

Result<std::int64_t> ReadOne(SqliteDatabase& db, const std::string& sql) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement, db.Prepare(sql));
  ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
  return has_row ? statement.ColumnInt64(0) : 0;
}

Status ApplyFrom(SqliteDatabase& db, std::int64_t applied) {
  for (std::int64_t version = applied + 1; version <= kServiceSchemaVersion; ++version) {
    ATTEST_RETURN_IF_ERROR(db.Execute(kMigrations[static_cast<std::size_t>(version - 1)]));
    ATTEST_RETURN_IF_ERROR(db.Execute("INSERT INTO schema_version(version, applied_at) VALUES (" +
                                      std::to_string(version) +
                                      ", strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"));
  }
  return OkStatus();
}

Status CreateSchema(SqliteDatabase& db) {
  // journal_mode and application_id cannot change inside a transaction.
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA journal_mode = WAL"));
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA application_id = " + std::to_string(kApplicationId)));
  return db.WithTransaction([&]() -> Status {
    ATTEST_RETURN_IF_ERROR(db.Execute(
        "CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
    return ApplyFrom(db, 0);
  });
}

Status CheckOrMigrate(SqliteDatabase& db, const std::string& path) {
  auto application_id = ReadOne(db, "PRAGMA application_id");
  if (!application_id.ok()) {
    return application_id.error().WithContext(path + ": not a readable SQLite database");
  }
  if (*application_id != kApplicationId) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": not a verifier service database");
  }
  return db.WithTransaction([&]() -> Status {
    // Under the write lock, so two processes never migrate at once.
    ATTEST_ASSIGN_OR_RETURN(std::int64_t applied,
                            ReadOne(db, "SELECT coalesce(max(version), 0) FROM schema_version"));
    if (applied > kServiceSchemaVersion) {
      return MakeError(ErrorCode::kUnsupported,
                       path + ": service schema version " + std::to_string(applied) +
                           " is newer than this verifier understands (" +
                           std::to_string(kServiceSchemaVersion) + "); upgrade the verifier");
    }
    return ApplyFrom(db, applied);
  });
}

Status Configure(SqliteDatabase& db, ConnectionRole role) {
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs)));
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA foreign_keys = ON"));
  if (role == ConnectionRole::kReader) return db.Execute("PRAGMA query_only = ON");
  // WalCheckpointer checkpoints; the writer's own automatic checkpoint,
  // inside a commit, is only the bound should it fall behind.
  ATTEST_RETURN_IF_ERROR(
      db.Execute("PRAGMA wal_autocheckpoint = " + std::to_string(kWriterAutocheckpointFrames)));
  ATTEST_RETURN_IF_ERROR(
      db.Execute("PRAGMA journal_size_limit = " + std::to_string(kWalSizeLimitBytes)));
  // FULL: a committed change (and its outbox rows) survives a power loss,
  // as the ledger's entries do.
  return db.Execute("PRAGMA synchronous = FULL");
}

// A new, empty file, 0600 whatever the umask; never one that appeared
// under our feet (O_EXCL).
Status CreateEmptyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrorFromErrno(errno, "create", path);
  FileDescriptor owner(fd);
  if (::fchmod(fd, 0600) != 0) return ErrorFromErrno(errno, "chmod", path);
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Connection>> OpenConnection(const std::string& path, ConnectionRole role,
                                                   bool create_file) {
  const bool creating = create_file && role == ConnectionRole::kWriter;
  if (creating) ATTEST_RETURN_IF_ERROR(CreateEmptyFile(path));
  auto remove_created = [&](Error error) -> Error {
    if (creating) {
      for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
    }
    return error;
  };
  auto db = SqliteDatabase::Open(path, SqliteDatabase::OpenMode::kReadWrite);
  if (!db.ok()) return remove_created(db.error());
  if (role == ConnectionRole::kWriter && db->IsReadOnly()) {
    return MakeError(ErrorCode::kPermissionDenied,
                     path + ": the service database is read-only for this user (uid " +
                         std::to_string(::geteuid()) + ")");
  }
  if (Status configured = Configure(*db, role); !configured.ok()) {
    return remove_created(configured.error());
  }
  if (role == ConnectionRole::kWriter) {
    Status schema = creating ? CreateSchema(*db) : CheckOrMigrate(*db, path);
    if (!schema.ok()) return remove_created(schema.error());
  }
  return std::make_unique<Connection>(std::move(db).value());
}

Result<SqliteStatement*> Connection::Prepared(const std::string& sql) {
  auto found = statements_.find(sql);
  if (found == statements_.end()) {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement, db_.Prepare(sql));
    found = statements_.emplace(sql, std::move(statement)).first;
  } else {
    found->second.Reset();
  }
  return &found->second;
}

}  // namespace attest::service::internal
