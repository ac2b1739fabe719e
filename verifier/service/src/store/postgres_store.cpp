// ServiceStore on PostgreSQL. One connection per store behind a mutex (a
// pool is the next step); several verifier processes each hold their own
// store on the same database, and the database orders their writes: the
// compare-and-set UPDATEs, the outbox lock, the challenges' primary keys.
// Rows pass through the SQLite store's checked binders and readers
// (postgres_relay.cpp), so both backends keep and refuse the same values.
#include "attest/service/postgres_store.h"

#include <functional>
#include <mutex>

#include "src/store/fields.h"
#include "src/store/postgres_internal.h"
#include "src/store/sqlite_internal.h"

namespace attest::service {
namespace {

using internal::PgParams;
using internal::Relay;
using pg::Param;

std::string SelectSql(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + " " + rest;
}

class PostgresServiceStore final : public ServiceStore {
 public:
  PostgresServiceStore(pg::Connection connection, Relay relay)
      : connection_(std::move(connection)), relay_(std::move(relay)) {}

  Result<CommitResult> Commit(const StoreChange& change) override {
    CommitResult result;
    Status committed = InTransaction(false, [&]() -> Status {
      return internal::PgApplyChange(connection_, relay_, change, result);
    });
    if (!committed.ok()) return committed.error().WithContext("commit");
    return result;
  }

  // synchronous_commit = off for the transaction: the WAL writer flushes it
  // within wal_writer_delay (store.h, kRoutineDurabilityWindow).
  Status RecordRoutineUpdate(const NodeRecord& node) override {
    Status recorded = InTransaction(true, [&]() -> Status {
      return internal::PgApplyRoutineUpdate(connection_, relay_, node);
    });
    if (!recorded.ok()) return recorded.error().WithContext("routine update");
    return OkStatus();
  }

  Result<std::optional<NodeRecord>> GetNode(std::string_view node_id) override {
    return ReadOptional<NodeRecord>(
        SelectSql(internal::kNodeColumns, "FROM nodes WHERE node_id = $1"), {Param::Text(node_id)},
        internal::kNodeTypes, internal::ReadNodeRow);
  }

  Result<std::vector<NodeRecord>> ListNodes(std::optional<NodeState> state,
                                            std::string_view after_node_id,
                                            std::size_t limit) override {
    const auto sql_limit = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(internal::kMaxInt64)));
    const std::string state_name = state ? std::string(NodeStateName(*state)) : "";
    return ReadAll<NodeRecord>(
        SelectSql(internal::kNodeColumns,
                  "FROM nodes WHERE ($1::text IS NULL OR state = $1) AND node_id > $2 "
                  "ORDER BY node_id COLLATE \"C\" LIMIT $3"),
        {state ? Param::Text(state_name) : Param::Null(), Param::Text(after_node_id),
         Param::Int64(sql_limit)},
        internal::kNodeTypes, internal::ReadNodeRow);
  }

  Result<std::vector<std::pair<NodeState, std::uint64_t>>> CountNodesByState() override {
    std::lock_guard lock(mutex_);
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult rows,
        connection_.Query("count nodes", "SELECT state, count(*) FROM nodes GROUP BY state"));
    std::vector<std::pair<NodeState, std::uint64_t>> counts;
    for (NodeState state : {NodeState::kPendingApproval, NodeState::kEnrolled, NodeState::kTrusted,
                            NodeState::kUntrusted, NodeState::kRevoked}) {
      counts.emplace_back(state, 0);
    }
    for (int row = 0; row < rows.rows(); ++row) {
      ATTEST_ASSIGN_OR_RETURN(std::string_view name, rows.Text(row, 0));
      std::optional<NodeState> state = ParseNodeState(name);
      if (!state) {
        return MakeError(ErrorCode::kCorrupt,
                         "service database: table nodes, column state: unknown node state \"" +
                             std::string(name) + "\"");
      }
      ATTEST_ASSIGN_OR_RETURN(std::int64_t count, rows.Int64(row, 1));
      counts[static_cast<std::size_t>(*state)].second = static_cast<std::uint64_t>(count);
    }
    return counts;
  }

  Result<std::optional<EnrollmentRecord>> GetEnrollment(std::string_view enrollment_id) override {
    return ReadOptional<EnrollmentRecord>(
        SelectSql(internal::kEnrollmentColumns, "FROM enrollments WHERE enrollment_id = $1"),
        {Param::Text(enrollment_id)}, internal::kEnrollmentTypes, internal::ReadEnrollmentRow);
  }

  Result<std::vector<CertificateRecord>> CertificatesOf(std::string_view node_id) override {
    return ReadAll<CertificateRecord>(
        SelectSql(
            internal::kCertificateColumns,
            "FROM certificates WHERE node_id = $1 ORDER BY not_before, serial_hex COLLATE \"C\""),
        {Param::Text(node_id)}, internal::kCertificateTypes, internal::ReadCertificateRow);
  }

  Result<std::vector<CertificateRecord>> RevokedCertificates(TimePoint now) override {
    ATTEST_ASSIGN_OR_RETURN(std::int64_t now_micros, internal::TimeToMicros(now, "now"));
    return ReadAll<CertificateRecord>(
        SelectSql(internal::kCertificateColumns,
                  "FROM certificates WHERE revoked_at IS NOT NULL AND not_after > $1 "
                  "ORDER BY revoked_at, serial_hex COLLATE \"C\""),
        {Param::Int64(now_micros)}, internal::kCertificateTypes, internal::ReadCertificateRow);
  }

  Result<std::uint64_t> NextCrlNumber() override {
    std::lock_guard lock(mutex_);
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult next,
        connection_.Query("next CRL number",
                          "INSERT INTO crl_number(id, value) VALUES (true, 1) ON CONFLICT (id) "
                          "DO UPDATE SET value = crl_number.value + 1 RETURNING value"));
    ATTEST_ASSIGN_OR_RETURN(std::int64_t number, next.Int64(0, 0));
    if (number < 1) {
      return MakeError(ErrorCode::kCorrupt, "service database: table crl_number, column value: " +
                                                std::to_string(number) + " is not positive");
    }
    return static_cast<std::uint64_t>(number);
  }

  Result<std::optional<TokenRecord>> GetToken(std::string_view token_id) override {
    return ReadOptional<TokenRecord>(
        SelectSql(internal::kTokenColumns, "FROM tokens WHERE token_id = $1"),
        {Param::Text(token_id)}, internal::kTokenTypes, internal::ReadTokenRow);
  }

  Result<std::vector<TokenRecord>> ListTokens() override {
    return ReadAll<TokenRecord>(
        SelectSql(internal::kTokenColumns,
                  "FROM tokens ORDER BY created_at, token_id COLLATE \"C\""),
        {}, internal::kTokenTypes, internal::ReadTokenRow);
  }

  Result<std::optional<PolicyRecord>> CurrentPolicy() override {
    return ReadOptional<PolicyRecord>(
        SelectSql(internal::kPolicyColumns, "FROM policies ORDER BY serial DESC LIMIT 1"), {},
        internal::kPolicyTypes, internal::ReadPolicyRow);
  }

  Result<std::vector<PendingLedgerEvent>> PendingLedgerEvents(std::size_t limit) override {
    const auto sql_limit = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(internal::kMaxInt64)));
    return ReadAll<PendingLedgerEvent>(
        SelectSql(internal::kOutboxColumns, "FROM ledger_outbox ORDER BY outbox_id LIMIT $1"),
        {Param::Int64(sql_limit)}, internal::kOutboxTypes, internal::ReadOutboxRow);
  }

  Status MarkLedgerEventsWritten(std::int64_t outbox_id) override {
    return InTransaction(false, [&]() -> Status {
      ATTEST_RETURN_IF_ERROR(connection_.Execute("mark ledger events written",
                                                 "DELETE FROM ledger_outbox WHERE outbox_id <= $1",
                                                 {Param::Int64(outbox_id)}));
      return connection_.Execute("clear the drain intent", "DELETE FROM ledger_drain");
    });
  }

  Result<std::optional<LedgerDrainIntent>> GetLedgerDrainIntent() override {
    std::lock_guard lock(mutex_);
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult read,
        connection_.Query("read the drain intent",
                          "SELECT last_outbox_id, ledger_size_before FROM ledger_drain"));
    if (read.rows() == 0) return std::optional<LedgerDrainIntent>();
    ATTEST_ASSIGN_OR_RETURN(std::int64_t last, read.Int64(0, 0));
    ATTEST_ASSIGN_OR_RETURN(std::int64_t size, read.Int64(0, 1));
    return std::optional<LedgerDrainIntent>(
        LedgerDrainIntent{last, static_cast<std::uint64_t>(size)});
  }

  Status RecordLedgerDrainIntent(const LedgerDrainIntent& intent) override {
    std::lock_guard lock(mutex_);
    return connection_.Execute(
        "record the drain intent",
        "INSERT INTO ledger_drain(id, last_outbox_id, ledger_size_before) VALUES (true, $1, $2) "
        "ON CONFLICT (id) DO UPDATE SET last_outbox_id = $1, ledger_size_before = $2",
        {Param::Int64(intent.last_outbox_id),
         Param::Int64(static_cast<std::int64_t>(intent.ledger_size_before))});
  }

  Result<TimePoint> RecordChallenge(std::string_view node_id, ByteView nonce,
                                    std::string_view requester, std::chrono::milliseconds lifetime,
                                    const ChallengeBounds& bounds) override {
    TimePoint expires_at;
    Status recorded = InTransaction(true, [&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(expires_at, internal::PgRecordChallenge(connection_, node_id, nonce,
                                                                      requester, lifetime, bounds));
      return OkStatus();
    });
    if (!recorded.ok()) return recorded.error().WithContext("record challenge");
    return expires_at;
  }

  Result<ChallengeRedemption> RedeemChallenge(std::string_view node_id, ByteView nonce) override {
    ChallengeRedemption outcome = ChallengeRedemption::kUnknown;
    Status redeemed = InTransaction(false, [&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(outcome, internal::PgRedeemChallenge(connection_, node_id, nonce));
      return OkStatus();
    });
    if (!redeemed.ok()) return redeemed.error().WithContext("redeem challenge");
    return outcome;
  }

  Result<std::uint64_t> PruneChallenges(std::chrono::seconds kept) override {
    std::uint64_t pruned = 0;
    Status done = InTransaction(true, [&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(pruned, internal::PgPruneChallenges(connection_, kept));
      return OkStatus();
    });
    if (!done.ok()) return done.error().WithContext("prune challenges");
    return pruned;
  }

 private:
  // Runs `body` in a READ COMMITTED transaction, committed when it
  // succeeds; `relaxed`: synchronous_commit = off for it.
  Status InTransaction(bool relaxed, const std::function<Status()>& body) {
    std::lock_guard lock(mutex_);
    ATTEST_ASSIGN_OR_RETURN(pg::Transaction transaction, pg::Transaction::Begin(connection_));
    if (relaxed) {
      ATTEST_RETURN_IF_ERROR(
          connection_.Execute("relax the commit", "SET LOCAL synchronous_commit = off"));
    }
    ATTEST_RETURN_IF_ERROR(body());
    return transaction.Commit();
  }

  template <typename Record>
  Result<std::vector<Record>> ReadAll(const std::string& sql, std::initializer_list<Param> params,
                                      const char* types,
                                      Result<Record> (*read)(const SqliteStatement&)) {
    std::lock_guard lock(mutex_);
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult rows, connection_.Query("read", sql, params));
    std::vector<Record> records;
    for (int row = 0; row < rows.rows(); ++row) {
      ATTEST_ASSIGN_OR_RETURN(Record record, relay_.FromRow(rows, row, types, read));
      records.push_back(std::move(record));
    }
    return records;
  }

  template <typename Record>
  Result<std::optional<Record>> ReadOptional(const std::string& sql,
                                             std::initializer_list<Param> params, const char* types,
                                             Result<Record> (*read)(const SqliteStatement&)) {
    ATTEST_ASSIGN_OR_RETURN(std::vector<Record> records, ReadAll(sql, params, types, read));
    if (records.empty()) return std::optional<Record>();
    return std::optional<Record>(std::move(records.front()));
  }

  std::mutex mutex_;
  pg::Connection connection_;  // guarded by mutex_
  Relay relay_;                // guarded by mutex_
};

}  // namespace

Result<std::unique_ptr<ServiceStore>> OpenPostgresServiceStore(const std::string& url,
                                                               bool create) {
  pg::ConnectOptions options;
  options.application_name = "attest-verifier";
  auto connection = pg::Connection::Open(url, options);
  if (!connection.ok()) return connection.error().WithContext("open service database");
  Status schema = internal::PreparePostgresSchema(*connection, create);
  if (!schema.ok()) return schema.error().WithContext("open service database");
  ATTEST_ASSIGN_OR_RETURN(Relay relay, Relay::Open());
  return std::unique_ptr<ServiceStore>(
      new PostgresServiceStore(std::move(connection).value(), std::move(relay)));
}

}  // namespace attest::service
