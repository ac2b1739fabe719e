// What the multi-verifier tests share (issue 14 §3): a fresh database on the
// binary's private PostgreSQL cluster, `verifier init --storage URL` once, a
// copy of its state directory for the second verifier (as an operator
// provisions the same key files on each), two `verifier serve` processes
// (A and B) on that database, and simulated nodes enrolled through them.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "attest/error.h"
#include "attest/http/client.h"
#include "attest/json.h"
#include "attest/pg/test_cluster.h"
#include "attest/testing/test_support.h"

#include "attestation_client.h"
#include "fleet_load.h"
#include "simulated_node.h"
#include "verifier_process.h"

namespace attest::service::test {

// One ledger entry as the database holds it.
struct StoredLedgerEntry {
  std::uint64_t seq = 0;
  std::string kind;
  Json payload;
};

// Polls `done` every 10 ms until it holds or `timeout` passes; whether it held.
template <typename Predicate>
bool WaitFor(Predicate done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class TwoVerifiersTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kVerifiers = 2;

  explicit TwoVerifiersTest(std::size_t nodes = 6) : node_count_(nodes) {}
  void SetUp() override;
  void TearDown() override;  // kills what still runs; shows its output on failure

  // Starts (or starts again) verifier `index` (0: A, 1: B) on its config.
  void StartVerifier(std::size_t index);
  VerifierProcess& verifier(std::size_t index) { return *verifiers_[index]; }

  http::ClientOptions ClientOptionsFor(std::size_t index) const;
  // A client of verifier `index` that trusts the deployment's CA; fails the
  // test (and returns null) when it cannot connect.
  std::unique_ptr<http::Client> Connect(std::size_t index) const;
  std::vector<std::pair<std::string, std::string>> AdminHeaders() const;
  // GET with the admin token; the parsed body, an error unless 200.
  Result<Json> AdminGet(std::size_t index, const std::string& target) const;

  // Enrolls every node, node i at verifier i % 2 (enrollment and activation
  // at the same one); fails the test on any error.
  void EnrollAll();

  // Rows in a table of the shared database.
  Result<std::uint64_t> CountRows(const std::string& table) const;
  // The text of one column of every row of `sql`'s result.
  Result<std::vector<std::string>> Column(const std::string& sql) const;
  // The ledger as stored, in seq order.
  Result<std::vector<StoredLedgerEntry>> LedgerEntries() const;
  // `ledger verify --db URL --key A/ledger.pub`.
  attest::test::CommandResult LedgerVerify() const;

  // After a failover run (two_verifiers_record.cpp): state changes at
  // verifier `index` until its drain has emptied the ledger outbox (what a
  // killed verifier left in it too); the tokens it made join `report`.
  void DrainAt(std::size_t index, FleetLoadReport& report);
  // Everything the clients were acknowledged is on record: each certificate
  // in GET /v1/nodes/{id} at `index` and in the ledger (cert.issued), each
  // token in the store and the ledger (token.created); every certificate and
  // token in the store has its ledger entry, no outbox event is in the ledger
  // twice, and `ledger verify` passes.
  void ExpectOnRecord(const FleetLoadReport& report, std::size_t index);

  const std::string& database_url() const { return database_.url(); }
  pg::test::TestCluster& cluster() const { return database_.cluster(); }
  const std::string& state_dir(std::size_t index) const { return state_dirs_[index]; }

  const std::size_t node_count_;
  pg::test::TestDatabase database_;
  attest::test::TempDir dir_{"multi_verifier"};
  NodeMeasurements measurements_;
  std::vector<std::unique_ptr<SimulatedNode>> nodes_;
  std::string admin_token_;
  std::array<std::string, kVerifiers> state_dirs_;
  std::array<std::string, kVerifiers> configs_;
  std::array<std::unique_ptr<VerifierProcess>, kVerifiers> verifiers_;
};

}  // namespace attest::service::test
