// The ServiceStore conformance suite: what every service store must do, run
// against each real backend. A backend's test file instantiates the suites
// with a factory of its own (sqlite_store_conformance_test.cpp):
//   INSTANTIATE_TEST_SUITE_P(Sqlite, ServiceStoreConformance,
//                            ::testing::Values(ServiceStoreBackendFactory{"Sqlite", MakeSqlite}),
//                            ServiceStoreBackendName);
// and the same for RoutineConformance, ChallengeConformance and
// LedgerWriterConformance
// (ledger_writer_conformance.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "attest/error.h"
#include "attest/service/store.h"
#include "attest/testing/test_support.h"

#include "tests/store/store_records.h"

namespace attest::service::test {

// One empty service store of a backend, and further connections to it.
// Owns whatever holds the store (a temp file, a private database) and
// removes it when destroyed.
class ServiceStoreBackend {
 public:
  virtual ~ServiceStoreBackend() = default;
  // Makes the store, empty (schema only), and returns the first connection
  // to it. Called once per test.
  virtual Result<std::unique_ptr<ServiceStore>> Create() = 0;
  // Another store on the same database, as another verifier process (or
  // this one after a restart) would open it.
  virtual Result<std::unique_ptr<ServiceStore>> Connect() = 0;
};

struct ServiceStoreBackendFactory {
  std::string name;  // a test-name suffix: letters and digits
  std::function<std::unique_ptr<ServiceStoreBackend>()> make;
};

inline void PrintTo(const ServiceStoreBackendFactory& factory, std::ostream* out) {
  *out << factory.name;
}

inline std::string ServiceStoreBackendName(
    const ::testing::TestParamInfo<ServiceStoreBackendFactory>& info) {
  return info.param.name;
}

class ServiceStoreConformance : public ::testing::TestWithParam<ServiceStoreBackendFactory> {
 protected:
  void SetUp() override;

  // Another store on the same database; fails the test when none can be had.
  std::unique_ptr<ServiceStore> Connect();
  // Commits on store_ or fails the test with the error.
  CommitResult MustCommit(const StoreChange& change);

  attest::test::TempDir dir_{"service_conformance"};  // for files beside the store (a ledger)
  std::unique_ptr<ServiceStoreBackend> backend_;
  std::unique_ptr<ServiceStore> store_;  // the connection that created the store
};

// RecordRoutineUpdate's tests (routine_conformance.cpp).
class RoutineConformance : public ServiceStoreConformance {
 protected:
  NodeRecord MustRead(const std::string& node_id) { return test::MustRead(*store_, node_id); }
  void MustRecord(const NodeRecord& node) {
    Status recorded = store_->RecordRoutineUpdate(node);
    EXPECT_TRUE(recorded.ok()) << recorded.error().ToString();
  }
};

// The challenges' tests (challenge_conformance.cpp): node NodeId(node),
// nonce ChallengeNonce(nonce), expiring `expires_at`.
class ChallengeConformance : public ServiceStoreConformance {
 protected:
  static constexpr std::chrono::milliseconds kMinute{60'000};
  // A failed call fails the test and reads kReused (which no test expects
  // where it is not).
  ChallengeRedemption Redeem(ServiceStore& store, int node, int nonce, TimePoint expires_at);
  TimePoint InAMinute() const { return std::chrono::system_clock::now() + kMinute; }
};

}  // namespace attest::service::test
