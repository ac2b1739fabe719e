// ServiceStore on SQLite. Concurrency: one writer connection behind a mutex
// (SQLite admits one writer at a time anyway, and BEGIN IMMEDIATE makes
// writers from other processes queue on the busy timeout) and a pool of
// query-only reader connections, one per concurrent reading thread. In WAL
// mode readers never wait for the writer, so attestations reading nodes do
// not queue behind a commit; a connection is only ever used by the thread
// that leased it, as SQLite's multi-thread mode requires.
#include "attest/service/sqlite_store.h"

#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

#include "attest/file.h"

#include "src/store/fields.h"
#include "src/store/sqlite_internal.h"
#include "src/store/wal_checkpointer.h"

namespace attest::service {
namespace {

using internal::Connection;
using internal::ResetOnExit;

// Idle reader connections kept open; more are opened on demand and closed
// when returned.
constexpr std::size_t kMaxIdleReaders = 16;

// A committed transaction that wrote no row wrote no WAL frame, and SQLite
// then fsyncs nothing: only a change that surely writes counts as a sync.
// (Revocation alone may match no certificate.)
bool WritesARow(const StoreChange& change) {
  return change.node || change.enrollment || !change.new_certificates.empty() || change.token ||
         change.policy || !change.events.empty();
}

template <typename Record>
using RowFunction = Result<Record> (*)(const SqliteStatement&);

template <typename Record>
Result<std::vector<Record>> ReadAll(SqliteStatement& statement, RowFunction<Record> read) {
  std::vector<Record> records;
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
    if (!has_row) return records;
    ATTEST_ASSIGN_OR_RETURN(Record record, read(statement));
    records.push_back(std::move(record));
  }
}

template <typename Record>
Result<std::optional<Record>> ReadOptional(SqliteStatement& statement, RowFunction<Record> read) {
  ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
  if (!has_row) return std::optional<Record>();
  ATTEST_ASSIGN_OR_RETURN(Record record, read(statement));
  return std::optional<Record>(std::move(record));
}

std::string Select(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + " " + rest;
}

class SqliteServiceStore final : public ServiceStore {
 public:
  SqliteServiceStore(std::string path, std::unique_ptr<Connection> writer,
                     std::unique_ptr<internal::WalCheckpointer> checkpointer)
      : path_(std::move(path)),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)) {}

  ~SqliteServiceStore() override {
    checkpointer_.reset();
    // Closing the last connection checkpoints (and syncs) the WAL; with
    // another process's connection open it would not, so the routine
    // updates not yet synced are synced here (a checkpoint fsyncs the WAL
    // first), waiting out another process's checkpoint for up to a second.
    std::lock_guard lock(writer_mutex_);
    if (routine_unsynced_) {
      (void)internal::CheckpointEverything(writer_->db(), std::chrono::seconds(1));
    }
  }

  Result<CommitResult> Commit(const StoreChange& change) override {
    std::lock_guard lock(writer_mutex_);
    ATTEST_RETURN_IF_ERROR(SetSynchronous(Synchronous::kFull));
    CommitResult result;
    Status committed = writer_->db().WithTransaction(
        [&]() -> Status { return internal::ApplyChange(*writer_, change, result); });
    if (!committed.ok()) return committed.error().WithContext("commit");
    if (WritesARow(change)) MarkSynced();
    return result;
  }

  // Group commit by time: a routine update is fsynced only when the last
  // fsync is kRoutineDurabilityWindow old, and otherwise written to the WAL
  // unsynced. Every fsync of the WAL covers all frames before it (WAL
  // recovery keeps a prefix), so a routine update is lost on power loss
  // only with every write after it, and only if it came within the window
  // after the last fsync. Why losing those is acceptable: the state is the
  // same before and after (trusted), and what goes back by a few
  // milliseconds is the last quote clock, which the verifier uses to refuse
  // a quote older than the last one seen (CLOCK_ROLLBACK). Every quote
  // still has to answer a fresh nonce (the challenges do not survive a
  // restart), so no recorded quote can be replayed; what the window
  // weakens is only the rollback check against a TPM whose clock went back
  // by less than the lost milliseconds, while the clock of every earlier
  // durable write (and of the routine updates before the window) still
  // binds. The boot and runtime caches go back with it: each is valid for
  // one boot only, and an older runtime cursor only makes the node send
  // more of its log, judged again. A state change, a certificate, a
  // revocation or a ledger event never takes this path (Commit).
  Status RecordRoutineUpdate(const NodeRecord& node) override {
    std::lock_guard lock(writer_mutex_);
    Status recorded =
        WriteWithinWindow([&]() -> Status { return internal::ApplyRoutineUpdate(*writer_, node); });
    if (!recorded.ok()) return recorded.error().WithContext("routine update");
    return OkStatus();
  }

  Result<std::unique_ptr<LedgerDrainLock>> LockLedgerDrain() override {
    return internal::LockDrainFile(internal::DrainLockPathFor(path_));
  }

  // FULL: a redemption lost to a power loss would make its nonce valid again.
  Result<ChallengeRedemption> RedeemChallenge(std::string_view node_id, ByteView nonce,
                                              TimePoint expires_at) override {
    std::lock_guard lock(writer_mutex_);
    ATTEST_RETURN_IF_ERROR(SetSynchronous(Synchronous::kFull));
    ChallengeRedemption outcome = ChallengeRedemption::kReused;
    Status redeemed = writer_->db().WithTransaction([&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(outcome,
                              internal::ApplyRedeemChallenge(*writer_, node_id, nonce, expires_at));
      return OkStatus();
    });
    if (!redeemed.ok()) return redeemed.error().WithContext("redeem challenge");
    if (outcome == ChallengeRedemption::kValid) MarkSynced();
    return outcome;
  }

  Result<ChallengeRedemption> RecordAnsweredRoutineUpdate(const NodeRecord& node, ByteView nonce,
                                                          TimePoint expires_at) override {
    std::lock_guard lock(writer_mutex_);
    ATTEST_RETURN_IF_ERROR(SetSynchronous(Synchronous::kFull));
    ChallengeRedemption outcome = ChallengeRedemption::kReused;
    Status recorded = writer_->db().WithTransaction([&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(
          outcome, internal::ApplyRedeemChallenge(*writer_, node.node_id, nonce, expires_at));
      if (outcome != ChallengeRedemption::kValid) return OkStatus();
      return internal::ApplyRoutineUpdate(*writer_, node);
    });
    if (!recorded.ok()) return recorded.error().WithContext("routine update");
    if (outcome == ChallengeRedemption::kValid) MarkSynced();
    return outcome;
  }

  Result<std::uint64_t> PruneChallenges(std::chrono::seconds kept) override {
    std::lock_guard lock(writer_mutex_);
    std::uint64_t pruned = 0;
    Status done = WriteWithinWindow([&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(pruned, internal::ApplyPruneChallenges(*writer_, kept));
      return OkStatus();
    });
    if (!done.ok()) return done.error().WithContext("prune challenges");
    return pruned;
  }

  Result<TimePoint> DatabaseNow() override {
    std::lock_guard lock(writer_mutex_);
    ATTEST_ASSIGN_OR_RETURN(std::int64_t now, internal::SqliteDatabaseNow(*writer_));
    return TimePoint(std::chrono::microseconds(now));
  }

  // A local read costs less than remembering one.
  Result<std::optional<NodeRecord>> GetNodeAsRead(std::string_view node_id, std::int64_t,
                                                  std::int64_t) override {
    return GetNode(node_id);
  }

  Result<std::optional<NodeRecord>> GetNodeForChallenge(std::string_view node_id) override {
    return GetNode(node_id);
  }

  Result<std::optional<NodeRecord>> GetNode(std::string_view node_id) override {
    return Read<std::optional<NodeRecord>>(
        Select(internal::kNodeColumns, "FROM nodes WHERE node_id = ?"),
        [&](SqliteStatement& statement) -> Result<std::optional<NodeRecord>> {
          ATTEST_RETURN_IF_ERROR(statement.BindText(1, node_id));
          return ReadOptional<NodeRecord>(statement, internal::ReadNodeRow);
        });
  }

  Result<std::vector<NodeRecord>> ListNodes(std::optional<NodeState> state,
                                            std::string_view after_node_id,
                                            std::size_t limit) override {
    const std::int64_t sql_limit = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(internal::kMaxInt64)));
    return Read<std::vector<NodeRecord>>(
        Select(internal::kNodeColumns,
               "FROM nodes WHERE (?1 IS NULL OR state = ?1) AND node_id > ?2 "
               "ORDER BY node_id LIMIT ?3"),
        [&](SqliteStatement& statement) -> Result<std::vector<NodeRecord>> {
          if (state) {
            ATTEST_RETURN_IF_ERROR(statement.BindText(1, NodeStateName(*state)));
          } else {
            ATTEST_RETURN_IF_ERROR(statement.BindNull(1));
          }
          ATTEST_RETURN_IF_ERROR(statement.BindText(2, after_node_id));
          ATTEST_RETURN_IF_ERROR(statement.BindInt64(3, sql_limit));
          return ReadAll<NodeRecord>(statement, internal::ReadNodeRow);
        });
  }

  Result<std::vector<TrustedNodeTime>> ListTrustedNodes(std::string_view after_node_id,
                                                        std::size_t limit) override {
    const std::int64_t sql_limit = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(internal::kMaxInt64)));
    return Read<std::vector<TrustedNodeTime>>(
        Select(internal::kTrustedNodeColumns,
               "FROM nodes WHERE state = 'trusted' AND node_id > ?1 ORDER BY node_id LIMIT ?2"),
        [&](SqliteStatement& statement) -> Result<std::vector<TrustedNodeTime>> {
          ATTEST_RETURN_IF_ERROR(statement.BindText(1, after_node_id));
          ATTEST_RETURN_IF_ERROR(statement.BindInt64(2, sql_limit));
          return ReadAll<TrustedNodeTime>(statement, internal::ReadTrustedNodeRow);
        });
  }

  // Every state, in NodeState order, zeros included (what /metrics shows).
  Result<std::vector<std::pair<NodeState, std::uint64_t>>> CountNodesByState() override {
    using Counts = std::vector<std::pair<NodeState, std::uint64_t>>;
    return Read<Counts>(
        "SELECT state, count(*) FROM nodes GROUP BY state",
        [&](SqliteStatement& statement) -> Result<Counts> {
          Counts counts;
          for (NodeState state :
               {NodeState::kPendingApproval, NodeState::kEnrolled, NodeState::kTrusted,
                NodeState::kUntrusted, NodeState::kRevoked}) {
            counts.emplace_back(state, 0);
          }
          while (true) {
            ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
            if (!has_row) return counts;
            std::optional<NodeState> state = ParseNodeState(statement.ColumnText(0));
            if (!state) {
              return MakeError(ErrorCode::kCorrupt,
                               "service database: table nodes, column state: unknown node "
                               "state \"" +
                                   std::string(statement.ColumnText(0)) + "\"");
            }
            counts[static_cast<std::size_t>(*state)].second =
                static_cast<std::uint64_t>(statement.ColumnInt64(1));
          }
        });
  }

  Result<std::optional<EnrollmentRecord>> GetEnrollment(std::string_view enrollment_id) override {
    return Read<std::optional<EnrollmentRecord>>(
        Select(internal::kEnrollmentColumns, "FROM enrollments WHERE enrollment_id = ?"),
        [&](SqliteStatement& statement) -> Result<std::optional<EnrollmentRecord>> {
          ATTEST_RETURN_IF_ERROR(statement.BindText(1, enrollment_id));
          return ReadOptional<EnrollmentRecord>(statement, internal::ReadEnrollmentRow);
        });
  }

  Result<std::vector<CertificateRecord>> CertificatesOf(std::string_view node_id) override {
    return Read<std::vector<CertificateRecord>>(
        Select(internal::kCertificateColumns,
               "FROM certificates WHERE node_id = ? ORDER BY not_before, serial_hex"),
        [&](SqliteStatement& statement) -> Result<std::vector<CertificateRecord>> {
          ATTEST_RETURN_IF_ERROR(statement.BindText(1, node_id));
          return ReadAll<CertificateRecord>(statement, internal::ReadCertificateRow);
        });
  }

  Result<std::vector<CertificateRecord>> RevokedCertificates(TimePoint now) override {
    ATTEST_ASSIGN_OR_RETURN(std::int64_t now_micros, internal::TimeToMicros(now, "now"));
    return Read<std::vector<CertificateRecord>>(
        Select(internal::kCertificateColumns,
               "FROM certificates WHERE revoked_at IS NOT NULL AND not_after > ? "
               "ORDER BY revoked_at, serial_hex"),
        [&](SqliteStatement& statement) -> Result<std::vector<CertificateRecord>> {
          ATTEST_RETURN_IF_ERROR(statement.BindInt64(1, now_micros));
          return ReadAll<CertificateRecord>(statement, internal::ReadCertificateRow);
        });
  }

  Result<std::uint64_t> NextCrlNumber() override {
    std::lock_guard lock(writer_mutex_);
    ATTEST_RETURN_IF_ERROR(SetSynchronous(Synchronous::kFull));
    std::int64_t number = 0;
    Status done = writer_->db().WithTransaction([&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(
          SqliteStatement * statement,
          writer_->Prepared("INSERT INTO crl_number(id, value) VALUES (1, 1) "
                            "ON CONFLICT(id) DO UPDATE SET value = value + 1 RETURNING value"));
      ResetOnExit reset(*statement);
      ATTEST_ASSIGN_OR_RETURN(bool has_row, statement->Step());
      number = has_row ? statement->ColumnInt64(0) : 0;
      if (number < 1) {
        return MakeError(ErrorCode::kCorrupt, "service database: table crl_number, column value: " +
                                                  std::to_string(number) + " is not positive");
      }
      return OkStatus();
    });
    if (!done.ok()) return done.error().WithContext("next CRL number");
    MarkSynced();
    return static_cast<std::uint64_t>(number);
  }

  Result<std::optional<TokenRecord>> GetToken(std::string_view token_id) override {
    return Read<std::optional<TokenRecord>>(
        Select(internal::kTokenColumns, "FROM tokens WHERE token_id = ?"),
        [&](SqliteStatement& statement) -> Result<std::optional<TokenRecord>> {
          ATTEST_RETURN_IF_ERROR(statement.BindText(1, token_id));
          return ReadOptional<TokenRecord>(statement, internal::ReadTokenRow);
        });
  }

  Result<std::vector<TokenRecord>> ListTokens() override {
    return Read<std::vector<TokenRecord>>(
        Select(internal::kTokenColumns, "FROM tokens ORDER BY created_at, token_id"),
        [&](SqliteStatement& statement) {
          return ReadAll<TokenRecord>(statement, internal::ReadTokenRow);
        });
  }

  Result<std::optional<PolicyRecord>> CurrentPolicy() override {
    return Read<std::optional<PolicyRecord>>(
        Select(internal::kPolicyColumns, "FROM policies ORDER BY serial DESC LIMIT 1"),
        [&](SqliteStatement& statement) {
          return ReadOptional<PolicyRecord>(statement, internal::ReadPolicyRow);
        });
  }

  Result<std::vector<PendingLedgerEvent>> PendingLedgerEvents(std::size_t limit) override {
    const std::int64_t sql_limit = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(internal::kMaxInt64)));
    return Read<std::vector<PendingLedgerEvent>>(
        Select(internal::kOutboxColumns, "FROM ledger_outbox ORDER BY outbox_id LIMIT ?"),
        [&](SqliteStatement& statement) -> Result<std::vector<PendingLedgerEvent>> {
          ATTEST_RETURN_IF_ERROR(statement.BindInt64(1, sql_limit));
          return ReadAll<PendingLedgerEvent>(statement, internal::ReadOutboxRow);
        });
  }

  Status MarkLedgerEventsWritten(std::int64_t outbox_id) override {
    std::lock_guard lock(writer_mutex_);
    ATTEST_RETURN_IF_ERROR(SetSynchronous(Synchronous::kFull));
    // Deleting nothing writes nothing, and then nothing is fsynced: this
    // never counts as the routine updates' sync.
    return writer_->db().WithTransaction([&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement,
                              writer_->Prepared("DELETE FROM ledger_outbox WHERE outbox_id <= ?"));
      ResetOnExit reset(*statement);
      ATTEST_RETURN_IF_ERROR(statement->BindInt64(1, outbox_id));
      ATTEST_RETURN_IF_ERROR(statement->Run());
      ATTEST_ASSIGN_OR_RETURN(
          SqliteStatement * intent,
          writer_->Prepared("DELETE FROM ledger_drain WHERE last_outbox_id <= ?"));
      ResetOnExit reset_intent(*intent);
      ATTEST_RETURN_IF_ERROR(intent->BindInt64(1, outbox_id));
      return intent->Run();
    });
  }

  Result<std::optional<LedgerDrainIntent>> GetLedgerDrainIntent() override {
    return Read<std::optional<LedgerDrainIntent>>(
        "SELECT last_outbox_id, ledger_size_before FROM ledger_drain WHERE id = 1",
        [&](SqliteStatement& statement) -> Result<std::optional<LedgerDrainIntent>> {
          ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
          if (!has_row) return std::optional<LedgerDrainIntent>();
          return std::optional<LedgerDrainIntent>(LedgerDrainIntent{
              statement.ColumnInt64(0), static_cast<std::uint64_t>(statement.ColumnInt64(1))});
        });
  }

  Status RecordLedgerDrainIntent(const LedgerDrainIntent& intent) override {
    std::lock_guard lock(writer_mutex_);
    // Durable before the batch reaches the ledger: recovery reads it.
    ATTEST_RETURN_IF_ERROR(SetSynchronous(Synchronous::kFull));
    ATTEST_ASSIGN_OR_RETURN(
        SqliteStatement * statement,
        writer_->Prepared("INSERT OR REPLACE INTO ledger_drain(id, last_outbox_id, "
                          "ledger_size_before) VALUES (1, ?, ?)"));
    ResetOnExit reset(*statement);
    ATTEST_RETURN_IF_ERROR(statement->BindInt64(1, intent.last_outbox_id));
    ATTEST_RETURN_IF_ERROR(
        statement->BindInt64(2, static_cast<std::int64_t>(intent.ledger_size_before)));
    return statement->Run();
  }

 private:
  // Runs `body` with the statement for `sql` on a leased reader connection.
  template <typename T, typename Body>
  Result<T> Read(const std::string& sql, Body body) {
    ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, LeaseReader());
    Result<T> result = [&]() -> Result<T> {
      ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement, reader->Prepared(sql));
      ResetOnExit reset(*statement);
      return body(*statement);
    }();
    ReturnReader(std::move(reader));
    return result;
  }

  Result<std::unique_ptr<Connection>> LeaseReader() {
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        std::unique_ptr<Connection> reader = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return reader;
      }
    }
    return internal::OpenConnection(path_, internal::ConnectionRole::kReader, false);
  }

  void ReturnReader(std::unique_ptr<Connection> reader) {
    std::lock_guard lock(readers_mutex_);
    if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(reader));
  }

  enum class Synchronous { kNormal, kFull };

  // The writer's PRAGMA synchronous for its next transactions: FULL (the
  // WAL is fsynced at every commit) for everything but the routine updates
  // RecordRoutineUpdate leaves unsynced. Called with writer_mutex_ held.
  Status SetSynchronous(Synchronous wanted) {
    if (wanted == synchronous_) return OkStatus();
    ATTEST_RETURN_IF_ERROR(writer_->db().Execute(wanted == Synchronous::kFull
                                                     ? "PRAGMA synchronous = FULL"
                                                     : "PRAGMA synchronous = NORMAL"));
    synchronous_ = wanted;
    return OkStatus();
  }

  // Runs `body` in a transaction synced only when the last sync is
  // kRoutineDurabilityWindow old (RecordRoutineUpdate says why that is
  // enough). Called with writer_mutex_ held.
  Status WriteWithinWindow(const std::function<Status()>& body) {
    const bool sync = std::chrono::steady_clock::now() - last_sync_ >= kRoutineDurabilityWindow;
    ATTEST_RETURN_IF_ERROR(SetSynchronous(sync ? Synchronous::kFull : Synchronous::kNormal));
    ATTEST_RETURN_IF_ERROR(writer_->db().WithTransaction(body));
    if (sync) {
      MarkSynced();
    } else {
      routine_unsynced_ = true;
    }
    return OkStatus();
  }

  // A FULL commit just fsynced the WAL, and with it every routine update
  // before it. Called with writer_mutex_ held.
  void MarkSynced() {
    last_sync_ = std::chrono::steady_clock::now();
    routine_unsynced_ = false;
  }

  const std::string path_;
  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;  // guarded by writer_mutex_
  // Guarded by writer_mutex_. OpenConnection leaves the writer FULL.
  Synchronous synchronous_ = Synchronous::kFull;
  std::chrono::steady_clock::time_point last_sync_ = std::chrono::steady_clock::now();
  bool routine_unsynced_ = false;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_
  std::unique_ptr<internal::WalCheckpointer> checkpointer_;
};

// Often enough that the thread copies a few hundred pages a pass at the
// verifier's full rate (about three pages per attestation), so the writer's
// own checkpoint finds little left to do.
constexpr std::chrono::milliseconds kCheckpointPeriod{100};

}  // namespace

Result<std::unique_ptr<ServiceStore>> OpenSqliteServiceStore(const std::string& path, bool create) {
  const bool exists = PathExists(path);
  if (!exists && !create) {
    return MakeError(ErrorCode::kNotFound,
                     path + ": no such service database (`verifier init` creates it)");
  }
  auto writer = internal::OpenConnection(path, internal::ConnectionRole::kWriter, !exists);
  if (!writer.ok()) return writer.error().WithContext("open service database");
  auto checkpointer = internal::WalCheckpointer::Start(path, kCheckpointPeriod);
  if (!checkpointer.ok()) return checkpointer.error().WithContext("open service database");
  return std::unique_ptr<ServiceStore>(
      new SqliteServiceStore(path, std::move(writer).value(), std::move(checkpointer).value()));
}

}  // namespace attest::service
