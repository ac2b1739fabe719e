#include "tests/store/store_test_util.h"

#include "attest/sqlite.h"

namespace attest::service::test {

void ExecuteSql(const std::string& path, const std::string& sql) {
  auto db = SqliteDatabase::Open(path, SqliteDatabase::OpenMode::kReadWrite);
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  Status done = db->Execute(sql);
  ASSERT_TRUE(done.ok()) << sql << ": " << done.error().ToString();
}

void StoreTest::SetUp() { store_ = Open(true); }

std::unique_ptr<ServiceStore> StoreTest::Open(bool create) {
  auto store = OpenSqliteServiceStore(path_, create);
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

CommitResult StoreTest::MustCommit(const StoreChange& change) {
  auto result = store_->Commit(change);
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  return result.ok() ? std::move(result).value() : CommitResult{};
}

}  // namespace attest::service::test
