// `verifier migrate` through the real binary: what it prints, its exit
// codes, and that a second run into the same database is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/pg/test_cluster.h"
#include "attest/service/config.h"
#include "attest/service/operations.h"
#include "attest/testing/test_support.h"

namespace attest::service::test {
namespace {

using ::attest::test::CommandResult;
using ::attest::test::RunCommand;
using ::attest::test::TempDir;

class MigrateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok()) << database_.error();
    InitOptions options;
    options.state_dir = layout_.dir;
    options.ledger_origin = "migrate.example/verifier";
    SystemClock clock;
    auto token = InitStateDirectory(options, clock);
    ASSERT_TRUE(token.ok()) << token.error().ToString();
  }

  CommandResult Verifier(std::vector<std::string> args) {
    args.insert(args.begin(), VERIFIER_BINARY);
    return RunCommand(args);
  }

  pg::test::TestDatabase database_;
  TempDir dir_;
  StateLayout layout_{dir_.File("state")};
};

TEST_F(MigrateCliTest, PrintsTheRowsTheLedgerAndTheNextStepAndRefusesASecondRun) {
  CommandResult run = Verifier({"migrate", "--from", layout_.dir, "--to", database_.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("service rows: nodes 0, enrollments 0, certificates 0, tokens 1, "
                         "policies 0, ledger_outbox 0, ledger_drain 0, crl_number 0 "
                         "(challenges are not copied)\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("ledger: 1 entry, 0 checkpoints, root "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("next: set storage = \"" + database_.url() + "\""), std::string::npos)
      << run.out;

  CommandResult again = Verifier({"migrate", "--from", layout_.dir, "--to", database_.url()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already holds service_schema_migrations"), std::string::npos)
      << again.err;
}

// A deployment `verifier init` made before challenge.key existed gets one:
// on PostgreSQL every verifier must hold the same.
TEST_F(MigrateCliTest, MakesAMissingChallengeKeyAndKeepsAnExistingOne) {
  const std::string key_path = layout_.challenge_key();
  auto made_by_init = ReadSecretFile(key_path, 64);
  ASSERT_TRUE(made_by_init.ok()) << made_by_init.error().ToString();
  EXPECT_EQ(made_by_init->size(), 32u);
  const Bytes init_key(made_by_init->view().begin(), made_by_init->view().end());
  ASSERT_EQ(::unlink(key_path.c_str()), 0);

  CommandResult run = Verifier({"migrate", "--from", layout_.dir, "--to", database_.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("made " + key_path), std::string::npos) << run.out;
  auto made = ReadSecretFile(key_path, 64);  // refuses a group- or world-readable file
  ASSERT_TRUE(made.ok()) << made.error().ToString();
  EXPECT_EQ(made->size(), 32u);
  EXPECT_NE(Bytes(made->view().begin(), made->view().end()), init_key);
}

TEST_F(MigrateCliTest, RefusesAChallengeKeyThatIsNotOneBeforeCopying) {
  ::attest::test::WriteText(layout_.challenge_key(), "short");
  ASSERT_EQ(::chmod(layout_.challenge_key().c_str(), 0600), 0);
  CommandResult run = Verifier({"migrate", "--from", layout_.dir, "--to", database_.url()});
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_NE(run.err.find(layout_.challenge_key() + ": holds 5 bytes, not the 32"),
            std::string::npos)
      << run.err;
  ASSERT_EQ(::unlink(layout_.challenge_key().c_str()), 0);
  CommandResult after = Verifier({"migrate", "--from", layout_.dir, "--to", database_.url()});
  EXPECT_EQ(after.exit_code, 0) << "nothing was copied by the refused runs: " << after.err;
}

TEST_F(MigrateCliTest, TheConfigurationCanNameTheDeployment) {
  const std::string config = dir_.File("verifier.toml");
  ::attest::test::WriteText(config, "state_dir = \"" + layout_.dir + "\"\n");
  CommandResult run = Verifier({"migrate", "--config", config, "--to", database_.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("ledger: 1 entry, 0 checkpoints"), std::string::npos) << run.out;
  CommandResult both =
      Verifier({"migrate", "--config", config, "--from", layout_.dir, "--to", database_.url()});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
}

TEST_F(MigrateCliTest, BothEndsAreRequired) {
  CommandResult no_target = Verifier({"migrate", "--from", layout_.dir});
  EXPECT_EQ(no_target.exit_code, 2);
  EXPECT_NE(no_target.err.find("--to is required"), std::string::npos) << no_target.err;
  CommandResult no_source = Verifier({"migrate", "--to", database_.url()});
  EXPECT_EQ(no_source.exit_code, 2);
  EXPECT_NE(no_source.err.find("--from STATE_DIR or --config FILE is required"), std::string::npos)
      << no_source.err;
}

TEST_F(MigrateCliTest, ASourceLedgerThatDoesNotVerifyExitsOne) {
  CommandResult edit = RunCommand({"sqlite3", layout_.dir + "/ledger.db",
                                   "DROP TRIGGER entries_no_update; "
                                   "UPDATE entries SET actor = 'x' WHERE seq = 1;"});
  ASSERT_EQ(edit.exit_code, 0) << edit.err;
  CommandResult run = Verifier({"migrate", "--from", layout_.dir, "--to", database_.url()});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.err.find("does not verify"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace attest::service::test
