// SessionLocks (postgres_internal.h): the ledger drain lock and the
// verifiers' presence lock, session advisory locks on connections of their
// own.
#include <limits>
#include <random>

#include "src/store/postgres_internal.h"

namespace attest::service::internal {
namespace {

using pg::Param;

// The session advisory lock every drainer of one database's outbox takes
// ("AVDR"; the schema and outbox locks are transaction-scoped, other keys).
constexpr std::int64_t kDrainLockKey = 0x41564452;

// The class of the session advisory locks (two int4 keys, so pg_locks
// shows objsubid 2) each serving verifier holds on its own instance id
// ("AVPR").
constexpr std::int64_t kPresenceLockClass = 0x41565052;

// A random instance id in 1..2^31-1.
std::int64_t NewInstanceId() {
  std::random_device random;
  std::uniform_int_distribution<std::int64_t> id(1, std::numeric_limits<std::int32_t>::max());
  return id(random);
}

// Holds the drain lock's connection (and the mutex that lends it out) while
// it lives; unlocks on release, or drops the connection (which unlocks) when
// it cannot.
class PostgresDrainLock final : public LedgerDrainLock {
 public:
  PostgresDrainLock(std::unique_lock<std::mutex> guard, pg::Connection& connection)
      : guard_(std::move(guard)), connection_(connection) {}
  ~PostgresDrainLock() override {
    Status unlocked = connection_.Execute("release the drain lock", "SELECT pg_advisory_unlock($1)",
                                          {Param::Int64(kDrainLockKey)});
    if (!unlocked.ok()) connection_ = pg::Connection::Dead();
  }

  // The lock lives as long as its session, and excludes the other
  // drainers only on the primary: one round trip proves both.
  Status CheckHeld() override {
    Result<pg::QueryResult> primary =
        connection_.QueryPrepared("check the drain lock", "SELECT NOT pg_is_in_recovery()");
    if (!primary.ok()) {
      return primary.error().WithContext(
          "the ledger drain lock's session ended, so it may be lost");
    }
    ATTEST_ASSIGN_OR_RETURN(bool on_primary, primary->Bool(0, 0));
    if (!on_primary) {
      return MakeError(ErrorCode::kIo,
                       "the ledger drain lock is held on a standby, where it excludes no one");
    }
    return OkStatus();
  }

 private:
  std::unique_lock<std::mutex> guard_;
  pg::Connection& connection_;
};

}  // namespace

SessionLocks::SessionLocks(const std::string& url, const pg::ConnectOptions& options)
    : drain_reconnector_(url, options),
      presence_reconnector_(url, options),
      instance_id_(NewInstanceId()) {}

Result<std::unique_ptr<LedgerDrainLock>> SessionLocks::TryLockLedgerDrain() {
  std::unique_lock guard(drain_mutex_);
  // Never waits: a verifier holding it (or anyone else who can connect)
  // must not stall this one's commits; the holder drains until the outbox
  // is empty, and every verifier drains again every few seconds.
  Result<pg::QueryResult> locked =
      drain_reconnector_.Run(drain_connection_, [](pg::Connection& connection) {
        return connection.QueryPrepared("take the drain lock", "SELECT pg_try_advisory_lock($1)",
                                        {Param::Int64(kDrainLockKey)});
      });
  if (!locked.ok()) return locked.error().WithContext("lock the ledger outbox");
  ATTEST_ASSIGN_OR_RETURN(bool taken, locked->Bool(0, 0));
  if (!taken) return std::unique_ptr<LedgerDrainLock>();
  return std::unique_ptr<LedgerDrainLock>(
      new PostgresDrainLock(std::move(guard), drain_connection_));
}

Result<std::int64_t> SessionLocks::AnnounceAndCountOtherVerifiers() {
  std::lock_guard lock(presence_mutex_);
  return presence_reconnector_.Run(
      presence_connection_, [&](pg::Connection& connection) -> Result<std::int64_t> {
        for (int attempt = 0;; ++attempt) {
          // Held by this very session: another verifier that drew the same
          // id is not this one (and behind a pooler in transaction mode,
          // where sessions are shared, the look fails: no solo mode there).
          // Every other row, granted or waiting, is another verifier (or
          // someone in its way).
          ATTEST_ASSIGN_OR_RETURN(
              pg::QueryResult holders,
              connection.QueryPrepared(
                  "look for other verifiers",
                  "SELECT pg_is_in_recovery(), "
                  "count(*) FILTER (WHERE objid = $2::bigint::oid AND granted "
                  "AND pid = pg_backend_pid()), "
                  "count(*) FILTER (WHERE NOT (objid = $2::bigint::oid AND granted "
                  "AND pid = pg_backend_pid())) "
                  "FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid "
                  "AND objsubid = 2 AND database = "
                  "(SELECT oid FROM pg_database WHERE datname = current_database())",
                  {Param::Int64(kPresenceLockClass), Param::Int64(instance_id_)}));
          ATTEST_ASSIGN_OR_RETURN(bool standby, holders.Bool(0, 0));
          if (standby) {
            return MakeError(ErrorCode::kIo,
                             "the presence look reached a standby, where no verifier writes");
          }
          ATTEST_ASSIGN_OR_RETURN(std::int64_t mine, holders.Int64(0, 1));
          if (mine > 0) return holders.Int64(0, 2);
          // The first look, or a new session after the old one ended.
          ATTEST_ASSIGN_OR_RETURN(
              pg::QueryResult taken,
              connection.QueryPrepared(
                  "announce this verifier", "SELECT pg_try_advisory_lock($1::integer, $2::integer)",
                  {Param::Int64(kPresenceLockClass), Param::Int64(instance_id_)}));
          ATTEST_ASSIGN_OR_RETURN(bool announced, taken.Bool(0, 0));
          if (announced) return holders.Int64(0, 2);
          if (attempt > 0) {
            return MakeError(ErrorCode::kBusy,
                             "another session holds this verifier's presence lock (a connection "
                             "pooler in transaction mode? use session pooling)");
          }
          instance_id_ = NewInstanceId();  // another verifier drew the same id
        }
      });
}

}  // namespace attest::service::internal
