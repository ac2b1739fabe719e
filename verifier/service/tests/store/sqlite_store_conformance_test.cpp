// The ServiceStore conformance suites over the SQLite store, on a real file
// in a temp directory; Connect opens the file again, as another verifier
// process on the same host would.
#include "attest/service/sqlite_store.h"
#include "attest/testing/test_support.h"

#include "tests/store/ledger_writer_conformance.h"
#include "tests/store/store_conformance.h"

namespace attest::service::test {
namespace {

class SqliteBackend final : public ServiceStoreBackend {
 public:
  Result<std::unique_ptr<ServiceStore>> Create() override {
    return OpenSqliteServiceStore(path_, true);
  }
  Result<std::unique_ptr<ServiceStore>> Connect() override {
    return OpenSqliteServiceStore(path_, false);
  }

 private:
  attest::test::TempDir dir_{"service_sqlite"};
  std::string path_ = dir_.File("service.db");
};

const ServiceStoreBackendFactory kSqlite{"Sqlite",
                                         [] { return std::make_unique<SqliteBackend>(); }};

INSTANTIATE_TEST_SUITE_P(Sqlite, ServiceStoreConformance, ::testing::Values(kSqlite),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Sqlite, RoutineConformance, ::testing::Values(kSqlite),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Sqlite, ChallengeConformance, ::testing::Values(kSqlite),
                         ServiceStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Sqlite, LedgerWriterConformance, ::testing::Values(kSqlite),
                         ServiceStoreBackendName);

}  // namespace
}  // namespace attest::service::test
