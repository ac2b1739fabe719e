// `ledger verify --checkpoint/--min-size` through the real binary: a ledger
// cut back to an earlier checkpoint, or forked and re-signed with the real
// key, verifies on its own and is refused against what the auditor kept.
#include <gtest/gtest.h>

#include "test_util.h"

namespace attest::ledger {
namespace {

using test::CommandResult;
using test::RunLedger;
using test::TempDir;

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Five entries checkpointed and exported (early), then eight checkpointed
// and exported (later); each checkpoint saved as `ledger checkpoint` prints it.
class CliVerifyReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("audit.db");
    pub_ = db_ + ".pub";
    ASSERT_EQ(RunLedger({"init", "--db", db_, "--origin", "cli.example/audit"}).exit_code, 0);
    AppendRange(db_, 1, 5, "real");
    SaveCheckpointAndExport(db_, early_checkpoint_, early_export_);
    AppendRange(db_, 6, 8, "real");
    SaveCheckpointAndExport(db_, later_checkpoint_, later_export_);
  }

  void AppendRange(const std::string& db, int first, int last, const std::string& history) {
    for (int n = first; n <= last; ++n) {
      CommandResult appended = RunLedger(
          {"append", "--db", db, "--kind", "node.trusted", "--actor", "cli-test", "--payload",
           "{\"n\":" + std::to_string(n) + ",\"history\":\"" + history + "\"}"});
      ASSERT_EQ(appended.exit_code, 0) << appended.err;
    }
  }

  void SaveCheckpointAndExport(const std::string& db, std::string& checkpoint,
                               std::string& exported, const std::string& key = "") {
    const std::string stem = dir_.File(std::to_string(++saved_));
    checkpoint = stem + ".checkpoint";
    exported = stem + ".jsonl";
    CommandResult signed_checkpoint =
        RunLedger({"checkpoint", "--db", db, "--key", key.empty() ? db + ".key" : key});
    ASSERT_EQ(signed_checkpoint.exit_code, 0) << signed_checkpoint.err;
    test::WriteText(checkpoint, signed_checkpoint.out);
    CommandResult export_result = RunLedger({"export", "--db", db, "--out", exported});
    ASSERT_EQ(export_result.exit_code, 0) << export_result.err;
  }

  // Deletes every entry after `size` and everything that mentions one, with
  // the sqlite3 shell, as a writer with the database would (triggers first).
  static void CutDatabase(const std::string& db, int size) {
    const std::string n = std::to_string(size);
    CommandResult cut =
        test::RunCommand({"sqlite3", db,
                          "DROP TRIGGER entries_no_delete; DROP TRIGGER merkle_nodes_no_delete; "
                          "DROP TRIGGER checkpoints_no_delete; DELETE FROM entries WHERE seq > " +
                              n + "; DELETE FROM merkle_nodes WHERE last_leaf >= " + n +
                              "; DELETE FROM checkpoints WHERE tree_size > " + n + ";"});
    ASSERT_EQ(cut.exit_code, 0) << cut.err;
  }

  CommandResult Verify(const std::string& exported, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", exported, "--key", pub_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunLedger(args);
  }

  TempDir dir_;
  std::string db_;
  std::string pub_;
  int saved_ = 0;
  std::string early_checkpoint_;
  std::string early_export_;
  std::string later_checkpoint_;
  std::string later_export_;
};

TEST_F(CliVerifyReferenceTest, ExportCutBackToAnEarlierCheckpointIsRefusedWithTheLaterOne) {
  CommandResult alone = Verify(early_export_);
  ASSERT_EQ(alone.exit_code, 0) << alone.out << alone.err;  // the hole, on its own
  EXPECT_TRUE(Contains(alone.out, "warning: nothing here shows that entries were not removed"))
      << alone.out;

  CommandResult refused = Verify(early_export_, {"--checkpoint", later_checkpoint_});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Contains(refused.out, "trusted checkpoint " + later_checkpoint_ +
                                        ": the export holds 5 entries but the trusted "
                                        "checkpoint commits to 8"))
      << refused.out;
  CommandResult refused_json = Verify(early_export_, {"--checkpoint", later_checkpoint_, "--json"});
  EXPECT_EQ(refused_json.exit_code, 1);
  EXPECT_TRUE(Contains(refused_json.out, "\"ok\":false")) << refused_json.out;
  EXPECT_TRUE(Contains(refused_json.out, "commits to 8")) << refused_json.out;
}

TEST_F(CliVerifyReferenceTest, ExportCutBackIsRefusedWithMinSize) {
  CommandResult refused = Verify(early_export_, {"--min-size", "8"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Contains(refused.out,
                       "minimum size 8: the export holds 5 entries, fewer than the required 8"))
      << refused.out;
  CommandResult enough = Verify(early_export_, {"--min-size", "5"});
  EXPECT_EQ(enough.exit_code, 0) << enough.out;
  EXPECT_TRUE(Contains(enough.out, "holds at least the required 5 entries")) << enough.out;
  CommandResult bad = Verify(early_export_, {"--min-size", "eight"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.err, "--min-size")) << bad.err;
}

TEST_F(CliVerifyReferenceTest, HonestLongerExportExtendsTheEarlierCheckpoint) {
  CommandResult verified = Verify(later_export_, {"--checkpoint", early_checkpoint_});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_TRUE(
      Contains(verified.out, "extends the trusted checkpoint " + early_checkpoint_ + ": size 5"))
      << verified.out;
  EXPECT_FALSE(Contains(verified.out, "warning:")) << verified.out;
  CommandResult json = Verify(later_export_, {"--checkpoint", later_checkpoint_, "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.out;
  EXPECT_TRUE(Contains(json.out, "\"trusted_checkpoint\":{")) << json.out;
  EXPECT_TRUE(Contains(json.out, "\"warnings\":[]")) << json.out;
}

TEST_F(CliVerifyReferenceTest, ForkedHistoryResignedWithTheRealKeyIsRefused) {
  // The writer holds the database and its key: copies the ledger as it was
  // after entry 2, rewrites everything after it and grows it past the
  // auditor's checkpoint, signing with the real key.
  TempDir fork_dir;
  const std::string fork = fork_dir.File("fork.db");
  CommandResult copied = test::RunCommand({"sqlite3", db_, ".backup '" + fork + "'"});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  CutDatabase(fork, 2);
  AppendRange(fork, 3, 10, "forged");
  std::string fork_checkpoint;
  std::string fork_export;
  SaveCheckpointAndExport(fork, fork_checkpoint, fork_export, db_ + ".key");

  CommandResult alone = Verify(fork_export);
  ASSERT_EQ(alone.exit_code, 0) << alone.out << alone.err;  // self-consistent, real key
  CommandResult refused = Verify(fork_export, {"--checkpoint", later_checkpoint_});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Contains(refused.out, "the first 8 of the 10 entries the export holds"))
      << refused.out;
  EXPECT_TRUE(Contains(refused.out, "history differs")) << refused.out;
  // The same database, checked in place against the auditor's checkpoint.
  CommandResult database =
      RunLedger({"verify", "--db", fork, "--key", pub_, "--checkpoint", later_checkpoint_});
  EXPECT_EQ(database.exit_code, 1) << database.out << database.err;
  EXPECT_TRUE(Contains(database.out, "the first 8 of the 10 entries the database holds"))
      << database.out;
}

TEST_F(CliVerifyReferenceTest, DatabaseCutBackWithTheSqliteShellIsRefused) {
  CutDatabase(db_, 5);
  CommandResult alone = RunLedger({"verify", "--db", db_, "--key", pub_});
  ASSERT_EQ(alone.exit_code, 0) << alone.out;  // the hole, on its own
  CommandResult refused =
      RunLedger({"verify", "--db", db_, "--key", pub_, "--checkpoint", later_checkpoint_});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Contains(refused.out,
                       "the database holds 5 entries but the trusted checkpoint "
                       "commits to 8"))
      << refused.out;
  CommandResult min_size = RunLedger({"verify", "--db", db_, "--key", pub_, "--min-size", "6"});
  EXPECT_EQ(min_size.exit_code, 1) << min_size.out;
  EXPECT_TRUE(Contains(min_size.out, "the database holds 5 entries, fewer than the required 6"))
      << min_size.out;
}

TEST_F(CliVerifyReferenceTest, CheckpointSignedByAnotherKeyIsRefused) {
  // The same origin, another key: what a forger without the real key makes.
  TempDir other_dir;
  const std::string other = other_dir.File("other.db");
  ASSERT_EQ(RunLedger({"init", "--db", other, "--origin", "cli.example/audit"}).exit_code, 0);
  AppendRange(other, 1, 3, "other");
  std::string other_checkpoint;
  std::string other_export;
  SaveCheckpointAndExport(other, other_checkpoint, other_export);
  CommandResult refused = Verify(later_export_, {"--checkpoint", other_checkpoint});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Contains(refused.out, "trusted checkpoint " + other_checkpoint + ": not signed by"))
      << refused.out;

  // The right key, but the size line edited after signing.
  std::string edited = test::ReadText(later_checkpoint_);
  edited.replace(edited.find("\n8\n"), 3, "\n4\n");
  const std::string edited_path = dir_.File("edited.checkpoint");
  test::WriteText(edited_path, edited);
  CommandResult forged = Verify(later_export_, {"--checkpoint", edited_path});
  EXPECT_EQ(forged.exit_code, 1) << forged.out << forged.err;
  EXPECT_TRUE(Contains(forged.out, "trusted checkpoint " + edited_path + ": the signature by"))
      << forged.out;
}

TEST_F(CliVerifyReferenceTest, UnreadableOrMalformedCheckpointFileIsAnInputError) {
  const std::string garbage = dir_.File("garbage.checkpoint");
  test::WriteText(garbage, "cli.example/audit\n8\nnot a note\n");
  CommandResult malformed = Verify(later_export_, {"--checkpoint", garbage});
  EXPECT_EQ(malformed.exit_code, 2) << malformed.out << malformed.err;
  EXPECT_TRUE(Contains(malformed.err, "--checkpoint " + garbage + ":")) << malformed.err;
  EXPECT_TRUE(malformed.out.empty()) << malformed.out;

  const std::string missing = dir_.File("missing.checkpoint");
  CommandResult unreadable = Verify(later_export_, {"--checkpoint", missing});
  EXPECT_EQ(unreadable.exit_code, 2) << unreadable.out << unreadable.err;
  EXPECT_TRUE(Contains(unreadable.err, missing)) << unreadable.err;
}

TEST_F(CliVerifyReferenceTest, DatabaseWithoutKeySaysItTrustedTheDatabasesKey) {
  CommandResult without = RunLedger({"verify", "--db", db_});
  EXPECT_EQ(without.exit_code, 0) << without.out << without.err;
  EXPECT_TRUE(
      Contains(without.out, "warning: no --key: the database's own checkpoint key was trusted"))
      << without.out;
  CommandResult json = RunLedger({"verify", "--db", db_, "--json"});
  EXPECT_TRUE(Contains(json.out, "the database's own checkpoint key was trusted")) << json.out;
  CommandResult with = RunLedger({"verify", "--db", db_, "--key", pub_, "--min-size", "8"});
  EXPECT_EQ(with.exit_code, 0) << with.out;
  EXPECT_FALSE(Contains(with.out, "warning:")) << with.out;
}

}  // namespace
}  // namespace attest::ledger
