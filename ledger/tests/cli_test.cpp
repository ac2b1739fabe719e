// The `ledger` binary as users meet it: exit codes 0/1/2, one clear line per
// error, and nothing written when the input is bad.
#include <filesystem>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"

#include "test_util.h"

namespace attest::ledger {
namespace {

using test::CommandResult;
using test::RunLedger;
using test::TempDir;

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("audit.db");
    CommandResult init = RunLedger({"init", "--db", db_, "--origin", "cli.example/audit"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
  CommandResult Append(const std::string& payload, const std::string& kind = "node.enrolled") {
    return RunLedger(
        {"append", "--db", db_, "--kind", kind, "--actor", "cli-test", "--payload", payload});
  }
  int Size() {
    CommandResult list = RunLedger({"list", "--db", db_});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    return CountLines(list.out);
  }
  // A failing command prints exactly one line, naming the command.
  void ExpectInputError(const CommandResult& result, const std::string& needle) {
    EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
    EXPECT_EQ(CountLines(result.err), 1) << result.err;
    EXPECT_NE(result.err.find(needle), std::string::npos) << result.err;
    EXPECT_EQ(result.err.rfind("ledger", 0), 0u) << result.err;
  }

  TempDir dir_;
  std::string db_;
};

TEST_F(CliTest, InitWritesKeysWithTheRightModesAndRefusesToOverwrite) {
  struct stat info {};
  ASSERT_EQ(::stat((db_ + ".key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(db_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0007, 0u) << "the database must not be world-readable";
  EXPECT_NE(test::ReadText(db_ + ".pub").find("cli.example/audit+"), std::string::npos);
  ExpectInputError(RunLedger({"init", "--db", db_}), "already exists");
  ExpectInputError(RunLedger({"init", "--db", dir_.File("x.db"), "--origin", "bad origin"}),
                   "--origin");
  EXPECT_FALSE(PathExists(dir_.File("x.db")));
}

TEST_F(CliTest, HelpForEveryCommand) {
  for (std::vector<std::string> command : {std::vector<std::string>{"init"},
                                           {"append"},
                                           {"list"},
                                           {"show"},
                                           {"checkpoint"},
                                           {"export"},
                                           {"verify"},
                                           {"proof", "inclusion"},
                                           {"proof", "consistency"},
                                           {"proof", "verify"}}) {
    command.push_back("--help");
    CommandResult help = RunLedger(command);
    EXPECT_EQ(help.exit_code, 0) << command[0];
    EXPECT_NE(help.out.find("Usage: ledger " + command[0]), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << command[0];
  }
  EXPECT_EQ(RunLedger({"--help"}).exit_code, 0);
  EXPECT_EQ(RunLedger({}).exit_code, 2);
  ExpectInputError(RunLedger({"frobnicate"}), "unknown command");
  ExpectInputError(RunLedger({"list", "--db", db_, "--bogus"}), "unknown option --bogus");
}

TEST_F(CliTest, AppendAndShow) {
  CommandResult appended = Append(R"({"hostname":"node-1"})");
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  EXPECT_NE(appended.out.find("appended seq 1"), std::string::npos);
  CommandResult shown = RunLedger({"show", "1", "--db", db_});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\"hostname\": \"node-1\""), std::string::npos) << shown.out;
  ExpectInputError(RunLedger({"show", "2", "--db", db_}), "no entry with seq 2");
  ExpectInputError(RunLedger({"show", "x", "--db", db_}), "SEQ must be a non-negative integer");
}

TEST_F(CliTest, BadInputAppendsNothing) {
  ASSERT_EQ(Append(R"({"ok":true})").exit_code, 0);
  ExpectInputError(Append(R"({"hostname": )"), "payload: invalid JSON");
  ExpectInputError(Append("{\"hostname\":\"\xff\xfe\"}"), "not valid UTF-8");
  ExpectInputError(Append(R"({"a":1,"a":2})"), "duplicate object key");
  ExpectInputError(Append(R"(["not","an","object"])"), "must be a JSON object");
  ExpectInputError(Append(R"({"a":1})", "node.exploded"), "unknown kind");
  ExpectInputError(Append(R"({"a":1})", "Node..Enrolled"), "malformed");
  const std::string big = dir_.File("big.json");
  test::WriteText(big, "{\"a\":\"" + std::string(1 << 20, 'x') + "\"}");
  ExpectInputError(RunLedger({"append", "--db", db_, "--kind", "node.enrolled", "--actor", "a",
                              "--payload-file", big}),
                   "limit of 1048576");
  ExpectInputError(RunLedger({"append", "--db", db_, "--kind", "node.enrolled", "--payload", "{}"}),
                   "--actor is required");
  EXPECT_EQ(Size(), 1);
}

TEST_F(CliTest, PayloadFromStdinAndBatchFromFile) {
  CommandResult from_stdin = RunLedger(
      {"append", "--db", db_, "--kind", "config.changed", "--actor", "a", "--payload-file", "-"},
      R"({"file":"/etc/containerd/config.toml"})");
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  const std::string batch = dir_.File("batch.jsonl");
  test::WriteText(batch,
                  "{\"kind\":\"cert.issued\",\"actor\":\"v\",\"payload\":{\"n\":1}}\n"
                  "{\"kind\":\"cert.issued\",\"actor\":\"v\",\"payload\":{\"n\":2}}\n"
                  "{\"kind\":\"cert.bogus\",\"actor\":\"v\",\"payload\":{\"n\":3}}\n");
  ExpectInputError(RunLedger({"append", "--db", db_, "--batch", batch}), "entry 3 of the batch");
  EXPECT_EQ(Size(), 1);  // all or nothing
  test::WriteText(batch,
                  "{\"kind\":\"cert.issued\",\"actor\":\"v\",\"payload\":{\"n\":1}}\n"
                  "{\"kind\":\"cert.issued\",\"actor\":\"v\",\"payload\":{\"n\":2}}\n");
  CommandResult appended = RunLedger({"append", "--db", db_, "--batch", batch, "--json"});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  EXPECT_EQ(CountLines(appended.out), 2);
  EXPECT_EQ(Size(), 3);
}

TEST_F(CliTest, MissingDatabaseIsAnInputError) {
  const std::string missing = dir_.File("missing.db");
  ExpectInputError(RunLedger({"append", "--db", missing, "--kind", "node.enrolled", "--actor", "a",
                              "--payload", "{}"}),
                   "no such ledger database");
  EXPECT_FALSE(PathExists(missing)) << "a missing database must not be created by append";
  ExpectInputError(RunLedger({"verify", "--db", missing}), "no such ledger database");
  ::unsetenv("ATTEST_LEDGER_DB");
  ExpectInputError(RunLedger({"list"}), "pass --db PATH or set ATTEST_LEDGER_DB");
}

TEST_F(CliTest, ReadOnlyDatabaseIsAnInputErrorAndAppendsNothing) {
  ASSERT_EQ(Append(R"({"n":1})").exit_code, 0);
  // Tests run as root in CI, and root writes any file: meet the read-only
  // database as an unprivileged user (nobody), as an operator would. The
  // binary is copied next to the database, since the checkout may sit in a
  // directory nobody cannot enter.
  std::optional<uid_t> user;
  std::string binary = LEDGER_BINARY;
  if (::geteuid() == 0) {
    user = 65534;
    binary = dir_.File("ledger");
    std::filesystem::copy_file(LEDGER_BINARY, binary);
    ::chmod(binary.c_str(), 0755);
    ::chmod(db_.c_str(), 0644);  // readable, not writable, for nobody
  } else {
    ::chmod(db_.c_str(), 0444);
  }
  CommandResult refused = test::RunCommand(
      {binary, "append", "--db", db_, "--kind", "node.enrolled", "--actor", "a", "--payload", "{}"},
      test::CommandOptions{.as_uid = user});
  ExpectInputError(refused, "read-only");
  ::chmod(db_.c_str(), 0640);
  EXPECT_EQ(Size(), 1);
}

TEST_F(CliTest, CheckpointExportAndVerifyExitCodes) {
  for (int n = 1; n <= 5; ++n) ASSERT_EQ(Append("{\"n\":" + std::to_string(n) + "}").exit_code, 0);
  ExpectInputError(RunLedger({"export", "--db", db_}), "no checkpoint yet");
  CommandResult checkpoint = RunLedger({"checkpoint", "--db", db_});
  ASSERT_EQ(checkpoint.exit_code, 0) << checkpoint.err;
  EXPECT_EQ(checkpoint.out.rfind("cli.example/audit\n5\n", 0), 0u) << checkpoint.out;
  EXPECT_EQ(RunLedger({"checkpoint", "--db", db_, "--latest"}).out, checkpoint.out);

  const std::string exported = dir_.File("export.jsonl");
  ASSERT_EQ(RunLedger({"export", "--db", db_, "--out", exported}).exit_code, 0);
  const std::string pub = db_ + ".pub";
  CommandResult good = RunLedger({"verify", exported, "--key", pub});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("verified: 5 entries"), std::string::npos);
  // The key may be given literally, too.
  std::string literal = test::ReadText(pub);
  literal.pop_back();
  EXPECT_EQ(RunLedger({"verify", exported, "--key", literal}).exit_code, 0);

  std::vector<std::string> lines = test::SplitLines(test::ReadText(exported));
  lines[2].replace(lines[2].find("\"n\":3"), 5, "\"n\":4");
  test::WriteText(exported, test::JoinLines(lines));
  CommandResult bad = RunLedger({"verify", exported, "--key", pub});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("line 3 (seq 3):"), std::string::npos) << bad.out;
  CommandResult bad_json = RunLedger({"verify", exported, "--key", pub, "--json"});
  EXPECT_EQ(bad_json.exit_code, 1);
  EXPECT_NE(bad_json.out.find("\"ok\":false"), std::string::npos);

  ExpectInputError(RunLedger({"verify", exported}), "--key PUB is required");
  ExpectInputError(RunLedger({"verify", dir_.File("nope.jsonl"), "--key", pub}), "cannot open");
  ExpectInputError(RunLedger({"verify", exported, "--key", "garbage"}), "neither a readable file");
  EXPECT_EQ(RunLedger({"verify", "--db", db_, "--key", pub}).exit_code, 0);
}

TEST_F(CliTest, ExportLeavesOutUncheckpointedEntriesAndSaysSo) {
  ASSERT_EQ(Append(R"({"n":1})").exit_code, 0);
  ASSERT_EQ(RunLedger({"checkpoint", "--db", db_}).exit_code, 0);
  ASSERT_EQ(Append(R"({"n":2})").exit_code, 0);
  CommandResult partial = RunLedger({"export", "--db", db_});
  ASSERT_EQ(partial.exit_code, 0);
  EXPECT_EQ(CountLines(partial.out), 2);  // one entry and the checkpoint
  EXPECT_NE(partial.err.find("1 entries appended after the latest checkpoint"), std::string::npos);
  CommandResult full = RunLedger({"export", "--db", db_, "--checkpoint"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(CountLines(full.out), 3);
}

TEST_F(CliTest, ProofsVerifyOfflineAndTamperedProofsFail) {
  for (int n = 1; n <= 9; ++n) ASSERT_EQ(Append("{\"n\":" + std::to_string(n) + "}").exit_code, 0);
  ASSERT_EQ(RunLedger({"checkpoint", "--db", db_}).exit_code, 0);
  CommandResult inclusion = RunLedger({"proof", "inclusion", "4", "--db", db_});
  ASSERT_EQ(inclusion.exit_code, 0) << inclusion.err;
  const std::string proof = dir_.File("proof.json");
  test::WriteText(proof, inclusion.out);
  CommandResult verified = RunLedger({"proof", "verify", proof, "--key", db_ + ".pub"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  std::string tampered = inclusion.out;
  tampered.replace(tampered.find("\"n\": 4"), 6, "\"n\": 5");
  test::WriteText(proof, tampered);
  CommandResult refused = RunLedger({"proof", "verify", proof, "--key", db_ + ".pub"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("the entry was changed"), std::string::npos) << refused.out;

  ASSERT_EQ(Append(R"({"n":10})").exit_code, 0);
  ASSERT_EQ(RunLedger({"checkpoint", "--db", db_}).exit_code, 0);
  CommandResult consistency = RunLedger({"proof", "consistency", "9", "10", "--db", db_});
  ASSERT_EQ(consistency.exit_code, 0) << consistency.err;
  test::WriteText(proof, consistency.out);
  EXPECT_EQ(RunLedger({"proof", "verify", proof, "--key", db_ + ".pub"}).exit_code, 0);
  ExpectInputError(RunLedger({"proof", "inclusion", "11", "--db", db_}), "not in the tree");
}

TEST_F(CliTest, VerifyFindsARowEditedWithTheSqliteShell) {
  for (int n = 1; n <= 6; ++n) ASSERT_EQ(Append("{\"n\":" + std::to_string(n) + "}").exit_code, 0);
  ASSERT_EQ(RunLedger({"checkpoint", "--db", db_}).exit_code, 0);
  ASSERT_EQ(RunLedger({"verify", "--db", db_}).exit_code, 0);
  // The append-only trigger must go first, as it would for a real attacker.
  CommandResult edit = test::RunCommand(
      {"sqlite3", db_,
       "DROP TRIGGER entries_no_update; UPDATE entries SET payload = '{\"n\":40}' WHERE seq = 4;"});
  ASSERT_EQ(edit.exit_code, 0) << edit.err;
  CommandResult verified = RunLedger({"verify", "--db", db_});
  EXPECT_EQ(verified.exit_code, 1);
  EXPECT_NE(verified.out.find("seq 4: entry_hash"), std::string::npos) << verified.out;
  EXPECT_NE(verified.out.find("checkpoint at size 6"), std::string::npos) << verified.out;
}

}  // namespace
}  // namespace attest::ledger
