// Records and databases for the store's tests: a store on a real SQLite
// file in a temp directory, records with every field set, and raw SQL for
// tampering with the file the way a disk or an editor could.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "attest/service/sqlite_store.h"
#include "attest/service/store.h"
#include "attest/testing/test_support.h"

namespace attest::service::test {

// A fixed, microsecond-aligned instant (the store keeps microseconds).
TimePoint At(std::int64_t seconds);

std::string NodeId(int n);   // 64 lowercase hex, distinct per n
NodeRecord MakeNode(int n);  // every optional field set
EnrollmentRecord MakeEnrollment(int n);
CertificateRecord MakeCertificate(const std::string& node_id, const std::string& serial,
                                  TimePoint not_before, TimePoint not_after);
TokenRecord MakeTokenRecord(int n);
PolicyRecord MakePolicy(std::uint64_t serial);
LedgerEvent MakeEvent(std::string_view kind, int n);

// Runs SQL on the file through a separate connection (as another process would).
void ExecuteSql(const std::string& path, const std::string& sql);

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override;
  std::unique_ptr<ServiceStore> Open(bool create = false);
  // Commits or fails the test with the error.
  CommitResult MustCommit(const StoreChange& change);

  attest::test::TempDir dir_{"service_store"};
  std::string path_ = dir_.File("service.db");
  std::unique_ptr<ServiceStore> store_;
};

}  // namespace attest::service::test
