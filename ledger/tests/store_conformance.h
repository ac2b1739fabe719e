// The LedgerStore conformance suite: what every store must do, run against
// each real backend. A backend's test file instantiates the suite with a
// factory of its own (sqlite_store_conformance_test.cpp):
//   INSTANTIATE_TEST_SUITE_P(Sqlite, LedgerStoreConformance,
//                            ::testing::Values(StoreBackendFactory{"Sqlite", MakeSqlite}),
//                            StoreBackendName);
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "attest/error.h"
#include "attest/ledger/ledger_store.h"

namespace attest::ledger::test {

// One empty store of a backend, and further connections to it. Owns whatever
// holds the store (a temp file, a private database) and removes it when
// destroyed.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Makes the store, empty (schema, no ledger metadata), and returns the
  // first connection to it. Called once per test.
  virtual Result<std::unique_ptr<LedgerStore>> Create() = 0;
  // Another connection to the store Create made, as another process would
  // open it.
  virtual Result<std::unique_ptr<LedgerStore>> Connect() = 0;
};

struct StoreBackendFactory {
  std::string name;  // a test-name suffix: letters and digits
  std::function<std::unique_ptr<StoreBackend>()> make;
};

inline void PrintTo(const StoreBackendFactory& factory, std::ostream* out) { *out << factory.name; }

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackendFactory>& info) {
  return info.param.name;
}

class LedgerStoreConformance : public ::testing::TestWithParam<StoreBackendFactory> {
 protected:
  void SetUp() override;

  // Another connection; fails the test when none can be had.
  std::unique_ptr<LedgerStore> Connect();

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<LedgerStore> store_;  // the connection that created the store
};

}  // namespace attest::ledger::test
