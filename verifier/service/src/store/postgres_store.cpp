// ServiceStore on PostgreSQL. A pool of connections, each lent to one call
// at a time and reopened with backoff when it dies; several
// verifier processes each hold their own store on the same database, and
// the database orders their writes: the compare-and-set UPDATEs, the outbox
// lock, the challenges' primary keys. The ledger drain lock and the
// verifiers' presence lock are session advisory locks on connections of
// their own (postgres_session_locks.cpp).
// Rows pass through the SQLite store's checked binders and readers
// (postgres_relay.cpp), so both backends keep and refuse the same values.
#include "attest/service/postgres_store.h"

#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <vector>

#include "attest/pg/reconnect.h"

#include "src/store/fields.h"
#include "src/store/postgres_internal.h"
#include "src/store/sqlite_internal.h"

namespace attest::service {
namespace {

using internal::PgParams;
using internal::Relay;
using pg::Param;
using Steady = std::chrono::steady_clock;

std::string SelectSql(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + " " + rest;
}

// Enough for the rows of some ten thousand nodes with their cached states.
constexpr std::size_t kNodeRowCacheBytes = std::size_t{64} << 20;

pg::ConnectOptions ServiceConnectOptions() {
  pg::ConnectOptions options;
  options.application_name = "attest-verifier";
  // After a failover, only the new primary: a standby would refuse every
  // write (and its advisory locks exclude no one on the primary).
  options.read_write = true;
  return options;
}

class PostgresServiceStore final : public ServiceStore {
 public:
  // `connection` is the pool's first; the others open on first use.
  PostgresServiceStore(const std::string& url, pg::Connection connection, std::vector<Relay> relays,
                       std::chrono::milliseconds solo_after)
      : node_rows_(kNodeRowCacheBytes, solo_after, Steady::now()),
        session_locks_(url, ServiceConnectOptions()) {
    for (Relay& relay : relays) {
      pg::Connection opened = slots_.empty() ? std::move(connection) : pg::Connection::Dead();
      slots_.push_back(std::make_unique<Slot>(url, std::move(opened), std::move(relay)));
    }
    // Lent from the back: the open connection first, the others as load needs them.
    for (auto slot = slots_.rbegin(); slot != slots_.rend(); ++slot)
      free_slots_.push_back(slot->get());
  }

  Result<CommitResult> Commit(const StoreChange& change) override {
    std::optional<internal::NodeRowCache::WriteUnderWay> under_way;
    if (change.node) under_way.emplace(node_rows_, change.node->node_id);
    CommitResult result;
    Status committed =
        InTransaction(false, [&](pg::Connection& connection, Relay& relay) -> Status {
          result = CommitResult{};
          return internal::PgApplyChange(connection, relay, change, result);
        });
    // The row's new xmin is not known here: read again on next use.
    if (change.node) {
      if (committed.ok()) {
        const NodeRecord& node = *change.node;
        node_rows_.ForgetBelow(node.node_id, node.version + 1);
      } else {
        node_rows_.Distrust(change.node->node_id, Steady::now());
      }
    }
    if (!committed.ok()) return committed.error().WithContext("commit");
    return result;
  }

  // synchronous_commit = off for the transaction: the WAL writer flushes it
  // within wal_writer_delay (store.h, kRoutineDurabilityWindow).
  Status RecordRoutineUpdate(const NodeRecord& node) override {
    // One statement, its own transaction (PgApplyRoutineUpdate); once, as
    // its version check would refuse a second run after a lost answer.
    Result<ChallengeRedemption> recorded = ApplyRoutineUpdate(node, nullptr);
    if (!recorded.ok()) return recorded.error();
    return OkStatus();
  }

  // One durable statement (PgApplyRoutineUpdate); once, as RecordRoutineUpdate.
  Result<ChallengeRedemption> RecordAnsweredRoutineUpdate(const NodeRecord& node, ByteView nonce,
                                                          TimePoint expires_at) override {
    const internal::PgChallengeAnswer answer{nonce, expires_at};
    return ApplyRoutineUpdate(node, &answer);
  }

  Result<std::optional<NodeRecord>> GetNodeAsRead(std::string_view node_id, std::int64_t version,
                                                  std::int64_t row_token) override {
    if (std::optional<NodeRecord> read = node_rows_.ReadAt(node_id, version, row_token)) {
      return read;
    }
    // Not a read a later call may stand on: only GetNode's are.
    return ReadNode(node_id, false);
  }

  Result<std::optional<NodeRecord>> GetNode(std::string_view node_id) override {
    return ReadNode(node_id, true);
  }

  Result<std::size_t> LookForOtherVerifiers() override {
    // Alone as of before the look: a verifier that announced itself just
    // after the database answered is seen within kPostgresLookStands.
    const Steady::time_point asked_at = Steady::now();
    Result<std::int64_t> others = session_locks_.AnnounceAndCountOtherVerifiers();
    const Steady::time_point now = Steady::now();
    if (!others.ok()) {
      node_rows_.EndSolo(now);
      return others.error().WithContext("look for other verifiers (solo mode is off meanwhile)");
    }
    if (*others > 0) {
      node_rows_.EndSolo(now);
    } else {
      node_rows_.Alone(asked_at);
    }
    return static_cast<std::size_t>(*others);
  }

  Result<std::optional<NodeRecord>> GetNodeForChallenge(std::string_view node_id) override {
    if (std::optional<NodeRecord> known = node_rows_.LastKnown(node_id, Steady::now())) {
      return known;
    }
    return ReadNode(node_id, true);
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

  Result<std::vector<TrustedNodeTime>> ListTrustedNodes(std::string_view after_node_id,
                                                        std::size_t limit) override {
    const auto sql_limit = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(internal::kMaxInt64)));
    Result<std::vector<TrustedNodeTime>> nodes =
        ReadAll<TrustedNodeTime>(SelectSql(internal::kTrustedNodeColumns,
                                           "FROM nodes WHERE state = 'trusted' AND node_id > $1 "
                                           "ORDER BY node_id COLLATE \"C\" LIMIT $2"),
                                 {Param::Text(after_node_id), Param::Int64(sql_limit)},
                                 internal::kTrustedNodeTypes, internal::ReadTrustedNodeRow);
    const Steady::time_point now = Steady::now();
    if (!nodes.ok()) {
      node_rows_.EndSolo(now);
      return nodes.error();
    }
    // The refresh that reads these every few seconds is how a solo store
    // hears of another writer's routine updates.
    for (const TrustedNodeTime& node : *nodes) node_rows_.Observe(node.node_id, node.version, now);
    return nodes;
  }

  Result<std::vector<std::pair<NodeState, std::uint64_t>>> CountNodesByState() override {
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult rows, Run([](pg::Connection& connection, Relay&) {
                              return connection.Query(
                                  "count nodes",
                                  "SELECT state, count(*) FROM nodes GROUP BY state");
                            }));
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
    // Run again after a lost answer, it may skip a number: CRL numbers need
    // only increase.
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult next, Run([](pg::Connection& connection, Relay&) {
          return connection.Query(
              "next CRL number",
              "INSERT INTO crl_number(id, value) VALUES (true, 1) ON CONFLICT (id) "
              "DO UPDATE SET value = crl_number.value + 1 RETURNING value");
        }));
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
    return InTransaction(false, [&](pg::Connection& connection, Relay&) -> Status {
      ATTEST_RETURN_IF_ERROR(connection.Execute("mark ledger events written",
                                                "DELETE FROM ledger_outbox WHERE outbox_id <= $1",
                                                {Param::Int64(outbox_id)}));
      return connection.Execute("clear the drain intent",
                                "DELETE FROM ledger_drain WHERE last_outbox_id <= $1",
                                {Param::Int64(outbox_id)});
    });
  }

  Result<std::optional<LedgerDrainIntent>> GetLedgerDrainIntent() override {
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult read, Run([](pg::Connection& connection, Relay&) {
                              return connection.Query(
                                  "read the drain intent",
                                  "SELECT last_outbox_id, ledger_size_before FROM ledger_drain");
                            }));
    if (read.rows() == 0) return std::optional<LedgerDrainIntent>();
    ATTEST_ASSIGN_OR_RETURN(std::int64_t last, read.Int64(0, 0));
    ATTEST_ASSIGN_OR_RETURN(std::int64_t size, read.Int64(0, 1));
    return std::optional<LedgerDrainIntent>(
        LedgerDrainIntent{last, static_cast<std::uint64_t>(size)});
  }

  Status RecordLedgerDrainIntent(const LedgerDrainIntent& intent) override {
    return Run([&](pg::Connection& connection, Relay&) {  // an upsert: safe to run again
      return connection.Execute(
          "record the drain intent",
          "INSERT INTO ledger_drain(id, last_outbox_id, ledger_size_before) VALUES (true, $1, $2) "
          "ON CONFLICT (id) DO UPDATE SET last_outbox_id = $1, ledger_size_before = $2",
          {Param::Int64(intent.last_outbox_id),
           Param::Int64(static_cast<std::int64_t>(intent.ledger_size_before))});
    });
  }

  Result<std::unique_ptr<LedgerDrainLock>> LockLedgerDrain() override {
    return session_locks_.TryLockLedgerDrain();
  }

  Result<ChallengeRedemption> RedeemChallenge(std::string_view node_id, ByteView nonce,
                                              TimePoint expires_at) override {
    // Once: run again after its answer was lost, a redemption that committed
    // would read as reused.
    return RunOnce([&](pg::Connection& connection, Relay&) {
             return internal::PgRedeemChallenge(connection, node_id, nonce, expires_at);
           })
        .WithContext("redeem challenge");
  }

  Result<TimePoint> DatabaseNow() override {
    return Run([](pg::Connection& connection, Relay&) {
             return internal::PgDatabaseNow(connection);
           })
        .WithContext("read the database's clock");
  }

  Result<std::uint64_t> PruneChallenges(std::chrono::seconds kept) override {
    return Run([&](pg::Connection& connection, Relay&) {
             return internal::PgPruneChallenges(connection, kept);
           })
        .WithContext("prune challenges");
  }

 private:
  // Two integers per call while the row is the one cached (NodeRowCache).
  Result<std::optional<NodeRecord>> ReadNode(std::string_view node_id, bool confirmed) {
    const Steady::time_point asked_at = Steady::now();
    Result<pg::QueryResult> read_head = Run([&](pg::Connection& connection, Relay&) {
      return connection.QueryPrepared("read the node's version",
                                      "SELECT version, xmin::text::bigint FROM nodes "
                                      "WHERE node_id = $1",
                                      {Param::Text(node_id)});
    });
    if (!read_head.ok()) {
      node_rows_.EndSolo(Steady::now());
      return read_head.error();
    }
    const pg::QueryResult& head = *read_head;
    if (head.rows() == 0) {
      node_rows_.ObserveGone(node_id, Steady::now());
      return std::optional<NodeRecord>();
    }
    ATTEST_ASSIGN_OR_RETURN(std::int64_t version, head.Int64(0, 0));
    ATTEST_ASSIGN_OR_RETURN(std::int64_t row_xmin, head.Int64(0, 1));
    node_rows_.Observe(node_id, version, Steady::now());
    if (std::optional<NodeRecord> cached =
            node_rows_.Find(node_id, version, row_xmin, confirmed, asked_at)) {
      return cached;
    }
    return Run([&](pg::Connection& connection, Relay& relay) -> Result<std::optional<NodeRecord>> {
      ATTEST_ASSIGN_OR_RETURN(
          pg::QueryResult rows,
          connection.QueryPrepared("read the node",
                                   SelectSql(internal::kNodeColumns,
                                             ", xmin::text::bigint FROM nodes WHERE node_id = $1"),
                                   {Param::Text(node_id)}));
      if (rows.rows() == 0) return std::optional<NodeRecord>();
      ATTEST_ASSIGN_OR_RETURN(NodeRecord node,
                              relay.FromRow(rows, 0, internal::kNodeTypes, internal::ReadNodeRow));
      ATTEST_ASSIGN_OR_RETURN(std::int64_t read_xmin,
                              rows.Int64(0, static_cast<int>(std::strlen(internal::kNodeTypes))));
      node.row_token = read_xmin;
      node_rows_.Put(node, read_xmin, confirmed, asked_at);
      return std::optional<NodeRecord>(std::move(node));
    });
  }

  Result<ChallengeRedemption> ApplyRoutineUpdate(const NodeRecord& node,
                                                 const internal::PgChallengeAnswer* answer) {
    internal::NodeRowCache::WriteUnderWay under_way(node_rows_, node.node_id);
    const Steady::time_point asked_at = Steady::now();
    std::shared_ptr<const NodeRecord> stored = node_rows_.Stored(node.node_id, node.version);
    Result<internal::PgRoutineOutcome> outcome =
        RunOnce([&](pg::Connection& connection, Relay& relay) {
          return internal::PgApplyRoutineUpdate(connection, relay, node, stored.get(), answer);
        });
    if (!outcome.ok()) {
      node_rows_.Distrust(node.node_id, Steady::now());
      return outcome.error().WithContext("routine update");
    }
    if (outcome->row_xmin) node_rows_.PutRoutineUpdate(node, *outcome->row_xmin, asked_at);
    return outcome->answered;
  }

  // Runs `body` on the connection (reopened if it died, and once more on a
  // new one if it died under `body`'s first try: pg::Reconnector::Run).
  template <typename Body>
  auto Run(Body body) -> decltype(body(std::declval<pg::Connection&>(), std::declval<Relay&>())) {
    Lease lease(*this);
    Slot& slot = lease.slot();
    return slot.reconnector.Run(
        slot.connection, [&](pg::Connection& connection) { return body(connection, slot.relay); });
  }

  // The same without the second try: for a statement that commits on its
  // own and must not run twice.
  template <typename Body>
  auto RunOnce(Body body)
      -> decltype(body(std::declval<pg::Connection&>(), std::declval<Relay&>())) {
    Lease lease(*this);
    Slot& slot = lease.slot();
    return slot.reconnector.RunOnce(
        slot.connection, [&](pg::Connection& connection) { return body(connection, slot.relay); });
  }

  // Runs `body` in a READ COMMITTED transaction, committed when it
  // succeeds; `relaxed`: synchronous_commit = off for it. A transaction the
  // connection's loss rolled back is run again once on a new connection
  // (never one whose COMMIT may have been applied).
  Status InTransaction(bool relaxed, const std::function<Status(pg::Connection&, Relay&)>& body) {
    return Run([&](pg::Connection& connection, Relay& relay) -> Status {
      ATTEST_ASSIGN_OR_RETURN(pg::Transaction transaction, pg::Transaction::Begin(connection));
      if (relaxed) {
        ATTEST_RETURN_IF_ERROR(
            connection.Execute("relax the commit", "SET LOCAL synchronous_commit = off"));
      }
      ATTEST_RETURN_IF_ERROR(body(connection, relay));
      return transaction.Commit();
    });
  }

  template <typename Record>
  Result<std::vector<Record>> ReadAll(const std::string& sql, std::initializer_list<Param> params,
                                      const char* types,
                                      Result<Record> (*read)(const SqliteStatement&)) {
    return Run([&](pg::Connection& connection, Relay& relay) -> Result<std::vector<Record>> {
      ATTEST_ASSIGN_OR_RETURN(pg::QueryResult rows, connection.QueryPrepared("read", sql, params));
      std::vector<Record> records;
      for (int row = 0; row < rows.rows(); ++row) {
        ATTEST_ASSIGN_OR_RETURN(Record record, relay.FromRow(rows, row, types, read));
        records.push_back(std::move(record));
      }
      return records;
    });
  }

  template <typename Record>
  Result<std::optional<Record>> ReadOptional(const std::string& sql,
                                             std::initializer_list<Param> params, const char* types,
                                             Result<Record> (*read)(const SqliteStatement&)) {
    ATTEST_ASSIGN_OR_RETURN(std::vector<Record> records, ReadAll(sql, params, types, read));
    if (records.empty()) return std::optional<Record>();
    return std::optional<Record>(std::move(records.front()));
  }

  // One connection of the pool with its relay: lent to one call at a time.
  struct Slot {
    Slot(const std::string& url, pg::Connection opened, Relay opened_relay)
        : reconnector(url, ServiceConnectOptions()),
          connection(std::move(opened)),
          relay(std::move(opened_relay)) {}
    pg::Reconnector reconnector;
    pg::Connection connection;
    Relay relay;
  };

  // A slot borrowed while it lives; waits while every slot is lent.
  class Lease {
   public:
    explicit Lease(PostgresServiceStore& store) : store_(store) {
      std::unique_lock lock(store_.pool_mutex_);
      store_.pool_returned_.wait(lock, [this] { return !store_.free_slots_.empty(); });
      slot_ = store_.free_slots_.back();
      store_.free_slots_.pop_back();
    }
    ~Lease() {
      {
        std::lock_guard lock(store_.pool_mutex_);
        store_.free_slots_.push_back(slot_);
      }
      store_.pool_returned_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Slot& slot() { return *slot_; }

   private:
    PostgresServiceStore& store_;
    Slot* slot_ = nullptr;
  };

  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex pool_mutex_;
  std::condition_variable pool_returned_;
  std::vector<Slot*> free_slots_;  // guarded by pool_mutex_; the last is lent first

  internal::NodeRowCache node_rows_;

  internal::SessionLocks session_locks_;
};

}  // namespace

Result<std::unique_ptr<ServiceStore>> OpenPostgresServiceStore(
    const std::string& url, bool create, int connections, std::chrono::milliseconds solo_after) {
  if (connections < 1 || connections > 256) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "a service store pool of " + std::to_string(connections) + " connections: give 1 to 256");
  }
  auto connection = pg::Connection::Open(url, ServiceConnectOptions());
  if (!connection.ok()) return connection.error().WithContext("open service database");
  Status schema = internal::PreparePostgresSchema(*connection, create);
  if (!schema.ok()) return schema.error().WithContext("open service database");
  std::vector<Relay> relays;
  for (int i = 0; i < connections; ++i) {
    ATTEST_ASSIGN_OR_RETURN(Relay relay, Relay::Open());
    relays.push_back(std::move(relay));
  }
  return std::unique_ptr<ServiceStore>(
      new PostgresServiceStore(url, std::move(connection).value(), std::move(relays), solo_after));
}

}  // namespace attest::service
