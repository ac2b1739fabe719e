// The `ledger` CLI on a PostgreSQL database: --db takes a postgresql:// URL,
// the key files are named by --key/--pub (never kept in the database), and a
// URL with a password is refused.
#include <filesystem>

#include <gtest/gtest.h>

#include "attest/pg/test_cluster.h"

#include "test_util.h"

namespace attest::ledger::test {
namespace {

class PostgresCliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(database_.ok()) << database_.error(); }

  CommandResult Ledger(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--db", database_.url()});
    return RunLedger(args);
  }

  pg::test::TestDatabase database_;
  TempDir dir_;
};

TEST_F(PostgresCliTest, InitAppendCheckpointVerifyOnAUrl) {
  const std::string key = dir_.File("ledger.key");
  const std::string pub = dir_.File("ledger.pub");
  CommandResult init =
      Ledger({"init", "--origin", "pg.example/ledger", "--key", key, "--pub", pub});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(ReadText(pub).find("pg.example/ledger+"), std::string::npos);

  for (int n = 0; n < 3; ++n) {
    CommandResult append = Ledger({"append", "--kind", "config.changed", "--actor", "cli",
                                   "--payload", "{\"n\":" + std::to_string(n) + "}"});
    ASSERT_EQ(append.exit_code, 0) << append.err;
  }
  CommandResult checkpoint = Ledger({"checkpoint", "--key", key});
  ASSERT_EQ(checkpoint.exit_code, 0) << checkpoint.err;
  EXPECT_NE(checkpoint.out.find("pg.example/ledger\n3\n"), std::string::npos) << checkpoint.out;
  CommandResult verify = Ledger({"verify", "--key", pub});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  CommandResult again = Ledger({"init", "--key", dir_.File("k2"), "--pub", dir_.File("p2")});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already holds a ledger"), std::string::npos) << again.err;
}

TEST_F(PostgresCliTest, KeyFilesMustBeNamedForAUrl) {
  CommandResult init = Ledger({"init"});
  EXPECT_EQ(init.exit_code, 2);
  EXPECT_NE(init.err.find("--key FILE"), std::string::npos) << init.err;
  EXPECT_NE(init.err.find("never in the database"), std::string::npos) << init.err;
  CommandResult no_pub = Ledger({"init", "--key", dir_.File("k")});
  EXPECT_EQ(no_pub.exit_code, 2);
  EXPECT_NE(no_pub.err.find("--pub FILE"), std::string::npos) << no_pub.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("k")));
}

TEST_F(PostgresCliTest, APasswordInTheUrlIsRefused) {
  CommandResult list = RunLedger({"list", "--db", "postgresql://attest:s3cret@localhost/ledger"});
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_NE(list.err.find("PGPASSFILE"), std::string::npos) << list.err;
  EXPECT_EQ(list.err.find("s3cret"), std::string::npos) << list.err;
}

}  // namespace
}  // namespace attest::ledger::test
