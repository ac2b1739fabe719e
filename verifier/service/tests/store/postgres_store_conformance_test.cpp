// The ServiceStore conformance suites over the PostgreSQL store, on a fresh
// database per test of the binary's private cluster (pg/testing); Connect
// opens another store on it, as another verifier process would.
#include <chrono>

#include "attest/ledger/kinds.h"
#include "attest/pg/test_cluster.h"
#include "attest/service/postgres_store.h"

#include "tests/store/ledger_writer_conformance.h"
#include "tests/store/store_conformance.h"

namespace attest::service::test {
namespace {

class PostgresBackend final : public ServiceStoreBackend {
 public:
  Result<std::unique_ptr<ServiceStore>> Create() override {
    if (!database_.ok()) return MakeError(ErrorCode::kIo, database_.error());
    return OpenPostgresServiceStore(database_.url(), true);
  }
  Result<std::unique_ptr<ServiceStore>> Connect() override {
    return OpenPostgresServiceStore(database_.url(), false);
  }

 private:
  pg::test::TestDatabase database_;
};

const ServiceStoreBackendFactory kPostgres{"Postgres",
                                           [] { return std::make_unique<PostgresBackend>(); }};

INSTANTIATE_TEST_SUITE_P(Postgres, ServiceStoreConformance, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, RoutineConformance, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, ChallengeConformance, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, LedgerWriterConformance, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);

// PostgreSQL's drain lock is tried, never waited for: a verifier (or anyone
// who can connect) holding it must not stall another's commits; the holder
// drains, and the events wait for it or the next drain.
class PostgresDrainLockTest : public LedgerWriterConformance {};

TEST_P(PostgresDrainLockTest, ADrainFindingTheLockHeldLeavesTheEventsAndReturnsAtOnce) {
  MustCommit(StoreChange{.events = {MakeEvent(ledger::kinds::kNodeTrusted, 1)}});
  std::unique_ptr<ServiceStore> other = Connect();
  ASSERT_TRUE(other);
  auto held = other->LockLedgerDrain();
  ASSERT_TRUE(held.ok()) << held.error().ToString();
  ASSERT_TRUE(*held) << "nobody held it";
  EXPECT_TRUE((*held)->CheckHeld().ok());

  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(Drain(), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << "it waited";
  EXPECT_EQ(LedgerSize(), 0u);
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 1u);

  held->reset();  // released: the next drain takes it
  EXPECT_EQ(Drain(), 1u);
  EXPECT_EQ(LedgerSize(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresDrainLockTest, ::testing::Values(kPostgres),
                         ServiceStoreBackendName);

}  // namespace
}  // namespace attest::service::test
