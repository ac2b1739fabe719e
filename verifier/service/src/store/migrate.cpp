// MigrateSqliteToPostgres (migrate.h): checks both ends, copies the service
// rows (postgres_copy.cpp) in one transaction and the ledger (ledger/copy.h)
// in another, verifies the copied ledger, and drops what it created when a
// step fails.
#include "attest/service/migrate.h"

#include <cerrno>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/postgres_ledger_store.h"
#include "attest/ledger/verify.h"
#include "attest/service/config.h"
#include "attest/service/postgres_store.h"
#include "attest/service/sqlite_store.h"

#include "src/store/postgres_internal.h"
#include "src/store/sqlite_internal.h"

namespace attest::service {
namespace {

constexpr std::size_t kMaxLedgerPubBytes = 4096;
constexpr std::size_t kProblemsInMessage = 5;

// The SQLite store's outbox drain lock (DrainLockPathFor), taken without
// waiting and held for the whole migration: no drain moves events between
// the outbox and the ledger while both are copied.
class MigrationDrainLock {
 public:
  static Result<MigrationDrainLock> TryAcquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrorFromErrno(errno, "open drain lock", path);
    MigrationDrainLock lock(fd);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return MakeError(ErrorCode::kBusy,
                         path +
                             " is held: a verifier (or a `verifier` command) is writing this "
                             "deployment's ledger; stop every verifier on it first");
      }
      if (errno != EINTR) return ErrorFromErrno(errno, "lock", path);
    }
    return lock;
  }
  MigrationDrainLock(MigrationDrainLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  MigrationDrainLock& operator=(MigrationDrainLock&&) = delete;
  ~MigrationDrainLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit MigrationDrainLock(int fd) : fd_(fd) {}
  int fd_;
};

// service.db, locked so that no other connection may have it open, now or
// while the copy runs. In WAL mode a connection in EXCLUSIVE locking mode
// takes the file's lock for good at its first transaction, which fails at
// once (busy timeout 0) while any connection of any process has the file
// open: a running verifier always does.
Result<SqliteDatabase> OpenServiceDatabaseExclusively(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(SqliteDatabase db,
                          SqliteDatabase::Open(path, SqliteDatabase::OpenMode::kReadWrite));
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA busy_timeout = 0"));
  ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA locking_mode = EXCLUSIVE"));
  Status locked = db.Execute("BEGIN EXCLUSIVE");
  if (!locked.ok() && locked.error().code == ErrorCode::kBusy) {
    return MakeError(ErrorCode::kBusy,
                     path +
                         " is open in another process (a running verifier?): stop every "
                         "verifier on this state directory first");
  }
  ATTEST_RETURN_IF_ERROR(locked);
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement version,
                          db.Prepare("SELECT coalesce(max(version), 0) FROM schema_version"));
  ATTEST_ASSIGN_OR_RETURN(bool has_row, version.Step());
  if (!has_row || version.ColumnInt64(0) != kServiceSchemaVersion) {
    return MakeError(ErrorCode::kUnsupported,
                     path + ": service schema version " +
                         std::to_string(has_row ? version.ColumnInt64(0) : 0) + ", not " +
                         std::to_string(kServiceSchemaVersion));
  }
  return db;
}

Result<ledger::NoteVerifier> ReadLedgerKey(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxLedgerPubBytes));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return ledger::ParseVerifierKey(text).WithContext(path);
}

// The database must hold none of the tables either store makes.
Status CheckTargetHoldsNoStore(pg::Connection& target) {
  std::vector<std::string> ours = internal::PostgresServiceTables();
  for (std::string& table : ledger::PostgresLedgerTables()) ours.push_back(std::move(table));
  std::string array = "{";
  for (std::size_t i = 0; i < ours.size(); ++i) array += (i == 0 ? "" : ",") + ours[i];
  array += "}";
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult present,
      target.Query("look for the verifier's tables",
                   "SELECT name FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) "
                   "WHERE to_regclass(name) IS NOT NULL ORDER BY n",
                   {pg::Param::Text(array)}));
  if (present.rows() == 0) return OkStatus();
  std::string names;
  for (int row = 0; row < present.rows(); ++row) {
    ATTEST_ASSIGN_OR_RETURN(std::string_view name, present.Text(row, 0));
    names += (row == 0 ? "" : ", ") + std::string(name);
  }
  return MakeError(ErrorCode::kAlreadyExists,
                   "the database already holds " + names +
                       ": migrate copies only into a database without the verifier's tables "
                       "(drop them, or give another database)");
}

// `ledger verify` of `ledger` against `key`: kVerificationFailed naming
// the first problems.
Result<ledger::VerifyReport> VerifyWholeLedger(ledger::Ledger& ledger,
                                               const ledger::NoteVerifier& key,
                                               const std::string& what) {
  ledger::VerifyReport report;
  Status read = ledger::VerifyDatabase(ledger, key, report);
  if (!read.ok()) return read.error().WithContext("verify " + what);
  if (report.ok()) return report;
  std::string message =
      what + " does not verify (" + std::to_string(report.problem_count()) + " problems)";
  for (std::size_t i = 0; i < report.problems().size() && i < kProblemsInMessage; ++i) {
    message += "; " + report.problems()[i].where + ": " + report.problems()[i].what;
  }
  return MakeError(ErrorCode::kVerificationFailed, message);
}

// What this run created in the database, to drop again on failure.
struct Created {
  bool service = false;
  bool ledger = false;
  std::string DropSql() const {
    return (service ? internal::DropPostgresServiceSql() : "") +
           (ledger ? ledger::DropPostgresLedgerSql() : "");
  }
};

// Drops what `created` names (all of it or nothing) and returns `failure`,
// saying what is left behind if the drop fails too.
Error UndoMigration(const std::string& url, const Created& created, Error failure) {
  const std::string sql = created.DropSql();
  if (sql.empty()) return failure;
  Status dropped = [&]() -> Status {
    ATTEST_ASSIGN_OR_RETURN(pg::Connection connection, pg::Connection::Open(url));
    ATTEST_ASSIGN_OR_RETURN(pg::Transaction transaction, pg::Transaction::Begin(connection));
    ATTEST_RETURN_IF_ERROR(connection.ExecuteScript("drop what migrate created", sql));
    return transaction.Commit();
  }();
  if (dropped.ok()) {
    failure.message += " (the tables this run created were dropped again)";
  } else {
    failure.message += "; dropping the tables this run created failed too (" +
                       dropped.error().message + "): remove them with\n" + sql;
  }
  return failure;
}

// The ledger into a new ledger schema, verified: the same size and root as
// the source's verified `source_report`.
Status CopyLedgerVerified(ledger::Ledger& source, const ledger::VerifyReport& source_report,
                          const ledger::NoteVerifier& key, const std::string& url, Created& created,
                          MigrationSummary& summary) {
  // The schema is made in a transaction of its own: when that fails there
  // is nothing of the ledger to drop (and a function of the same name that
  // was there before must stay), unless the commit's answer was lost.
  auto created_store = ledger::CreatePostgresLedgerStore(url, {});
  if (!created_store.ok()) {
    created.ledger = pg::IsCommitOutcomeUnknown(created_store.error());
    return created_store.error();
  }
  created.ledger = true;
  std::unique_ptr<ledger::LedgerStore> store = std::move(created_store).value();
  ATTEST_ASSIGN_OR_RETURN(summary.ledger, ledger::CopyLedgerStore(source.store(), *store));
  ATTEST_ASSIGN_OR_RETURN(ledger::Ledger copy, ledger::Ledger::FromStore(std::move(store)));
  ATTEST_ASSIGN_OR_RETURN(ledger::VerifyReport report,
                          VerifyWholeLedger(copy, key, "the copied ledger"));
  if (report.entries != source_report.entries || report.root != source_report.root ||
      report.checkpoints_verified != source_report.checkpoints_verified) {
    return MakeError(
        ErrorCode::kVerificationFailed,
        "the copied ledger differs from the source: " + std::to_string(report.entries) +
            " entries and " + std::to_string(report.checkpoints_verified) + " checkpoints, not " +
            std::to_string(source_report.entries) + " and " +
            std::to_string(source_report.checkpoints_verified) +
            (report.root != source_report.root ? ", and another root" : ""));
  }
  summary.ledger_root = report.root;
  return OkStatus();
}

}  // namespace

Result<MigrationSummary> MigrateSqliteToPostgres(const MigrationSource& from,
                                                 const std::string& url) {
  if (!ledger::IsPostgresUrl(url)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the target must be a postgresql:// URL, not \"" + url + "\"");
  }
  const StorageLocation source = ResolveStorage(from.storage, from.state_dir);
  if (source.is_postgres()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the deployment is on PostgreSQL already (storage = " + source.name() + ")");
  }
  const std::string service_db = source.service_db();
  {
    // Brings an older service.db to the current schema, as a verifier
    // would at start; refuses what is not a service database.
    auto store = OpenSqliteServiceStore(service_db, false);
    if (!store.ok()) return store.error().WithContext("source");
  }
  ATTEST_ASSIGN_OR_RETURN(ledger::NoteVerifier key, ReadLedgerKey(from.state_dir + "/ledger.pub"));
  // The target first: refusing it is cheap, verifying the source ledger not.
  pg::ConnectOptions options;
  options.application_name = "attest-verifier-migrate";
  auto connection = pg::Connection::Open(url, options);
  if (!connection.ok()) return connection.error().WithContext("target");
  pg::Connection& target = *connection;
  ATTEST_RETURN_IF_ERROR(CheckTargetHoldsNoStore(target));
  ATTEST_ASSIGN_OR_RETURN(MigrationDrainLock drain_lock,
                          MigrationDrainLock::TryAcquire(internal::DrainLockPathFor(service_db)));
  ATTEST_ASSIGN_OR_RETURN(SqliteDatabase service, OpenServiceDatabaseExclusively(service_db));
  auto source_ledger = ledger::Ledger::Open(source.ledger_db(), {.read_only = true});
  if (!source_ledger.ok()) return source_ledger.error().WithContext("source ledger");
  ATTEST_ASSIGN_OR_RETURN(
      ledger::VerifyReport source_report,
      VerifyWholeLedger(*source_ledger, key, "the source ledger " + source.ledger_db()));

  MigrationSummary summary;
  Created created;
  Status service_copied = [&]() -> Status {
    ATTEST_ASSIGN_OR_RETURN(pg::Transaction transaction, pg::Transaction::Begin(target));
    ATTEST_RETURN_IF_ERROR(internal::CreatePostgresSchemaInTransaction(target));
    ATTEST_ASSIGN_OR_RETURN(summary.service_rows, internal::CopySqliteServiceRows(service, target));
    Status committed = transaction.Commit();
    // A commit whose answer was lost may have happened: drop to be sure.
    if (committed.ok() || pg::IsCommitOutcomeUnknown(committed.error())) created.service = true;
    return committed;
  }();
  if (!service_copied.ok()) {
    return UndoMigration(url, created, service_copied.error().WithContext("copy the service rows"));
  }
  Status ledger_copied =
      CopyLedgerVerified(*source_ledger, source_report, key, url, created, summary);
  if (!ledger_copied.ok()) return UndoMigration(url, created, ledger_copied.error());
  return summary;
}

}  // namespace attest::service
