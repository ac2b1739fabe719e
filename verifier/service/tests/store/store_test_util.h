// The SQLite-only store tests' fixture: a store on a real SQLite file in a
// temp directory, and raw SQL for tampering with the file the way a disk or
// an editor could. (Records: store_records.h.)
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "attest/service/sqlite_store.h"
#include "attest/service/store.h"
#include "attest/testing/test_support.h"

#include "tests/store/store_records.h"

namespace attest::service::test {

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
