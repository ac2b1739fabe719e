// Internals of the SQLite ServiceStore shared by its files: a connection
// with its prepared statements, the schema, and the bounds-checked row
// readers and checked binders. Not part of the library's interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attest/service/store.h"
#include "attest/sqlite.h"

namespace attest::service::internal {

class Binder;  // fields.h

// One SQLite connection and the statements prepared on it. Thread-compatible:
// the store hands a connection to one thread at a time.
class Connection {
 public:
  explicit Connection(SqliteDatabase db) : db_(std::move(db)) {}
  SqliteDatabase& db() { return db_; }
  // A statement prepared once per connection; reset and unbound on the way
  // in, so an earlier use that stopped early never leaks into this one.
  Result<SqliteStatement*> Prepared(const std::string& sql);

 private:
  SqliteDatabase db_;
  std::map<std::string, SqliteStatement, std::less<>> statements_;
};

// Resets a statement when a read is done, so a finished read never holds a
// WAL snapshot open (which would stop checkpoints).
class ResetOnExit {
 public:
  explicit ResetOnExit(SqliteStatement& statement) : statement_(statement) {}
  ~ResetOnExit() { statement_.Reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  SqliteStatement& statement_;
};

// ---- schema.cpp -------------------------------------------------------
// Opens a connection with the store's pragmas. The writer creates or
// migrates the schema first (`create_file` makes a new 0600 file); readers
// are query-only.
enum class ConnectionRole { kWriter, kReader };
Result<std::unique_ptr<Connection>> OpenConnection(const std::string& path, ConnectionRole role,
                                                   bool create_file);

// ---- rows.cpp ---------------------------------------------------------
// Times are stored as integer microseconds since the Unix epoch (UTC),
// truncated; the range a TimePoint can hold from 1970 on is accepted.
Result<std::int64_t> TimeToMicros(TimePoint time, std::string_view what);

inline constexpr const char* kNodeColumns =
    "node_id, hostname, ek_public, ek_certificate, ak_public, state, enrolled_at, "
    "last_attestation, last_verdict, last_clock, last_reset_count, last_restart_count, "
    "boot_reset_count, boot_restart_count, boot_log_digest, boot_state, "
    "reenroll_allowed_until, version, runtime_reset_count, runtime_restart_count, "
    "runtime_entries, runtime_state";
inline constexpr const char* kEnrollmentColumns =
    "enrollment_id, node_id, hostname, ek_public, ek_certificate, ak_public, secret_digest, "
    "state, created_at, expires_at, failed_attempts, version";
inline constexpr const char* kCertificateColumns =
    "serial_hex, node_id, not_before, not_after, certificate_pem, revoked_at, revocation_reason";
inline constexpr const char* kTokenColumns =
    "token_id, role, label, secret_digest, created_at, revoked_at";
inline constexpr const char* kPolicyColumns = "serial, document, envelope, applied_at";
inline constexpr const char* kOutboxColumns = "outbox_id, kind, payload, recorded_at";
inline constexpr const char* kTrustedNodeColumns =
    "node_id, enrolled_at, last_attestation, version";

// Each reads one row selected with the matching column list; a value
// outside what the store writes is kCorrupt naming the table and column.
Result<NodeRecord> ReadNodeRow(const SqliteStatement& row);
Result<EnrollmentRecord> ReadEnrollmentRow(const SqliteStatement& row);
Result<CertificateRecord> ReadCertificateRow(const SqliteStatement& row);
Result<TokenRecord> ReadTokenRow(const SqliteStatement& row);
Result<PolicyRecord> ReadPolicyRow(const SqliteStatement& row);
Result<PendingLedgerEvent> ReadOutboxRow(const SqliteStatement& row);
Result<TrustedNodeTime> ReadTrustedNodeRow(const SqliteStatement& row);

// Each checks a record as the store will read it back (kInvalidArgument
// naming the field) and binds it in the column list's order from 1.
Status BindNode(SqliteStatement& statement, const NodeRecord& node, std::int64_t version);
// The routine columns, last_attestation through boot_state in kNodeColumns'
// order (what RecordRoutineUpdate writes), with BindNode's checks.
Status BindNodeRoutineColumns(Binder& bind, const NodeRecord& node);
// The runtime cache's columns (runtime_reset_count through runtime_state),
// also routine, with BindNode's checks.
Status BindNodeRuntimeColumns(Binder& bind, const NodeRecord& node);
Status BindEnrollment(SqliteStatement& statement, const EnrollmentRecord& enrollment,
                      std::int64_t version);
Status BindCertificate(SqliteStatement& statement, const CertificateRecord& certificate);
Status BindToken(SqliteStatement& statement, const TokenRecord& token);
Status BindPolicy(SqliteStatement& statement, const PolicyRecord& policy);

// ---- sqlite_commit.cpp ------------------------------------------------
// The events' payloads as the outbox keeps them (canonical JSON), or
// kInvalidArgument for an event the ledger would refuse. Every backend's
// Commit checks them before it writes anything.
Result<std::vector<std::string>> CanonicalPayloads(const std::vector<LedgerEvent>& events);
// The body of Commit, run inside the writer's IMMEDIATE transaction.
Status ApplyChange(Connection& writer, const StoreChange& change, CommitResult& result);

// ---- sqlite_routine.cpp -----------------------------------------------
// The body of RecordRoutineUpdate, run inside the writer's transaction.
Status ApplyRoutineUpdate(Connection& writer, const NodeRecord& node);

// ---- sqlite_challenge.cpp ---------------------------------------------
// The challenges' bodies (store.h), run inside the writer's transaction.
Result<ChallengeRedemption> ApplyRedeemChallenge(Connection& writer, std::string_view node_id,
                                                 ByteView nonce, TimePoint expires_at);
Result<std::uint64_t> ApplyPruneChallenges(Connection& writer, std::chrono::seconds kept);
// Microseconds since the Unix epoch by SQLite's clock (the host's).
Result<std::int64_t> SqliteDatabaseNow(Connection& writer);

// ---- sqlite_drain_lock.cpp --------------------------------------------
// ledger-drain.lock in the directory of the database at `database_path`
// (the state directory), which every drainer of that database locks.
std::string DrainLockPathFor(const std::string& database_path);
// An flock on `path` (created 0600 if absent), held until the lock dies.
Result<std::unique_ptr<LedgerDrainLock>> LockDrainFile(const std::string& path);

}  // namespace attest::service::internal
