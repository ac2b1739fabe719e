// The LedgerStore conformance suite over the SQLite store, on a real file in
// a temp directory.
#include "attest/ledger/sqlite_ledger_store.h"

#include "store_conformance.h"
#include "test_util.h"

namespace attest::ledger::test {
namespace {

class SqliteBackend final : public StoreBackend {
 public:
  Result<std::unique_ptr<LedgerStore>> Create() override {
    return CreateSqliteLedgerStore(path_, SqliteStoreOptions{});
  }
  Result<std::unique_ptr<LedgerStore>> Connect() override {
    return OpenSqliteLedgerStore(path_, SqliteStoreOptions{});
  }

 private:
  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
};

INSTANTIATE_TEST_SUITE_P(Sqlite, LedgerStoreConformance,
                         ::testing::Values(StoreBackendFactory{
                             "Sqlite", [] { return std::make_unique<SqliteBackend>(); }}),
                         StoreBackendName);

}  // namespace
}  // namespace attest::ledger::test
