// The ServiceStore conformance suites over the PostgreSQL store, on a fresh
// database per test of the binary's private cluster (pg/testing); Connect
// opens another store on it, as another verifier process would.
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

}  // namespace
}  // namespace attest::service::test
