// The ledger over a real SQLite file: appends, proofs from stored nodes,
// checkpoints, and verification of a database someone edited by hand.
#include "attest/ledger/ledger.h"

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/ledger/verify.h"

#include "merkle_reference.h"
#include "test_util.h"

namespace attest::ledger {
namespace {

using test::CreateTestLedger;
using test::MakeEntry;
using test::MakeSignedEntry;
using test::RunCommand;
using test::TempDir;

std::string Payload(int n) { return "{\"n\":" + std::to_string(n) + "}"; }

void AppendMany(Ledger& ledger, int count, int first = 1) {
  std::vector<NewEntry> batch;
  for (int n = first; n < first + count; ++n)
    batch.push_back(MakeEntry("config.changed", Payload(n)));
  ASSERT_TRUE(ledger.AppendBatch(batch).ok());
}

// "seq 5: entry_hash ..." problems, as one string for matching.
std::string Problems(const VerifyReport& report) {
  std::string text;
  for (const VerifyProblem& problem : report.problems()) {
    text += problem.where + ": " + problem.what + "\n";
  }
  return text;
}

VerifyReport VerifyDb(Ledger& ledger, const std::optional<NoteVerifier>& key = std::nullopt) {
  VerifyReport report;
  Status status = VerifyDatabase(ledger, key, report);
  EXPECT_TRUE(status.ok()) << status.error().ToString();
  return report;
}

// Runs SQL through the sqlite3 shell, as someone with write access to the
// file would.
void Sqlite(const std::string& db, const std::string& sql) {
  auto result = RunCommand({"sqlite3", db, sql});
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

TEST(LedgerTest, CreateThenOpenKeepsOriginAndKey) {
  TempDir dir;
  auto test = CreateTestLedger(dir, "audit.example/prod");
  auto reopened = Ledger::Open(test.db);
  ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
  EXPECT_EQ(reopened->origin(), "audit.example/prod");
  EXPECT_EQ(reopened->checkpoint_key().public_key, test.signer.key.public_key());
  EXPECT_EQ(*reopened->Size(), 0u);
}

TEST(LedgerTest, CreateRefusesAnExistingFile) {
  TempDir dir;
  test::WriteText(dir.File("taken.db"), "precious");
  auto key = Ed25519PrivateKey::Generate();
  auto created = Ledger::Create(dir.File("taken.db"), "x.example/l", key->public_key());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(test::ReadText(dir.File("taken.db")), "precious");
}

TEST(LedgerTest, OpenExplainsMissingAndForeignFiles) {
  TempDir dir;
  auto missing = Ledger::Open(dir.File("nope.db"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("ledger init --db"), std::string::npos);
  EXPECT_FALSE(PathExists(dir.File("nope.db")));  // nothing created

  Sqlite(dir.File("other.db"), "CREATE TABLE t(x)");
  auto foreign = Ledger::Open(dir.File("other.db"));
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("not a ledger database"), std::string::npos);

  test::WriteText(dir.File("junk.db"), std::string(4096, 'j'));
  EXPECT_FALSE(Ledger::Open(dir.File("junk.db")).ok());
}

TEST(LedgerTest, AppendsChainAndReadBack) {
  TempDir dir;
  auto test = CreateTestLedger(dir);
  Sha256 hasher;
  Hash chain = kGenesisChainHash;
  for (int n = 1; n <= 5; ++n) {
    auto appended = test.ledger.Append(MakeEntry("node.enrolled", Payload(n)));
    ASSERT_TRUE(appended.ok()) << appended.error().ToString();
    EXPECT_EQ(appended->seq, static_cast<std::uint64_t>(n));
    auto entry = test.ledger.Get(appended->seq);
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry->content.payload, Payload(n));
    EXPECT_EQ(entry->entry_hash, ComputeEntryHash(entry->seq, entry->content));
    chain = ComputeChainHash(chain, entry->entry_hash, hasher);
    EXPECT_EQ(entry->chain_hash, chain);
  }
  EXPECT_EQ(*test.ledger.Size(), 5u);
  EXPECT_EQ(test.ledger.Get(6).error().code, ErrorCode::kNotFound);
}

TEST(LedgerTest, BatchIsAllOrNothing) {
  TempDir dir;
  auto test = CreateTestLedger(dir);
  AppendMany(test.ledger, 2);
  std::vector<NewEntry> batch = {MakeEntry("cert.issued", Payload(1)),
                                 MakeEntry("cert.issued", Payload(2)),
                                 MakeEntry("cert.issued", "{\"broken\":")};
  auto appended = test.ledger.AppendBatch(batch);
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.error().message.find("entry 3 of the batch"), std::string::npos);
  EXPECT_EQ(*test.ledger.Size(), 2u);
  EXPECT_TRUE(VerifyDb(test.ledger).ok());
}

TEST(LedgerTest, ProofsFromStoredNodesMatchTheReference) {
  TempDir dir;
  auto test = CreateTestLedger(dir);
  AppendMany(test.ledger, 40);
  std::vector<Hash> leaves;
  for (std::uint64_t seq = 1; seq <= 40; ++seq) leaves.push_back(test.ledger.Get(seq)->entry_hash);
  for (std::uint64_t n = 1; n <= 40; ++n) {
    const Hash root = reference::Mth(leaves, 0, n);
    ASSERT_EQ(*test.ledger.RootAt(n), root) << n;
    for (std::uint64_t seq = 1; seq <= n; ++seq) {
      auto proof = test.ledger.ProveInclusion(seq, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, reference::Path(leaves, seq - 1, 0, n)) << seq << "/" << n;
    }
    for (std::uint64_t m = 1; m < n; ++m) {
      ASSERT_EQ(*test.ledger.ProveConsistency(m, n), reference::SubProof(leaves, m, 0, n, true));
    }
  }
  EXPECT_FALSE(test.ledger.RootAt(41).ok());
  EXPECT_FALSE(test.ledger.ProveInclusion(41, 41).ok());
  EXPECT_FALSE(test.ledger.ProveInclusion(0, 40).ok());
  EXPECT_FALSE(test.ledger.ProveConsistency(5, 41).ok());
}

TEST(LedgerTest, CheckpointsAreSignedStoredAndReused) {
  TempDir dir;
  auto test = CreateTestLedger(dir);
  AppendMany(test.ledger, 7);
  auto first = test.ledger.SignCheckpoint(test.signer);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  auto opened = OpenCheckpoint(first->note, test.verifier);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->tree_size, 7u);
  EXPECT_EQ(opened->root_hash, *test.ledger.RootAt(7));
  // Nothing appended: the same checkpoint comes back.
  EXPECT_EQ(test.ledger.SignCheckpoint(test.signer)->note, first->note);
  AppendMany(test.ledger, 1, 8);
  EXPECT_EQ(test.ledger.SignCheckpoint(test.signer)->tree_size, 8u);
  EXPECT_EQ((*test.ledger.LatestCheckpoint())->tree_size, 8u);

  auto other = Ed25519PrivateKey::Generate();
  NoteSigner impostor{test.signer.name, NoteKeyId(test.signer.name, other->public_key()),
                      std::move(other).value()};
  auto refused = test.ledger.SignCheckpoint(impostor);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("is not this ledger's checkpoint key"), std::string::npos);
}

TEST(LedgerVerifyTest, CleanLedgerVerifies) {
  TempDir dir;
  auto test = CreateTestLedger(dir);
  auto signer_key = Ed25519PrivateKey::Generate();
  AppendMany(test.ledger, 10);
  ASSERT_TRUE(test.ledger.SignCheckpoint(test.signer).ok());
  ASSERT_TRUE(test.ledger
                  .Append(MakeSignedEntry(*signer_key, "artifact.approved",
                                          R"({"sha256":"00","path":"/usr/bin/runc"})"))
                  .ok());
  AppendMany(test.ledger, 6, 11);
  ASSERT_TRUE(test.ledger.SignCheckpoint(test.signer).ok());
  VerifyReport report = VerifyDb(test.ledger, test.verifier);
  EXPECT_TRUE(report.ok()) << Problems(report);
  EXPECT_EQ(report.entries, 17u);
  EXPECT_EQ(report.signed_entries, 1u);
  EXPECT_EQ(report.checkpoints_verified, 2u);
  EXPECT_EQ(report.latest_checkpoint->tree_size, 17u);
}

TEST(LedgerVerifyTest, TriggersRefuseUpdatesAndDeletes) {
  TempDir dir;
  auto test = CreateTestLedger(dir);
  AppendMany(test.ledger, 3);
  auto update = RunCommand({"sqlite3", test.db, "UPDATE entries SET actor = 'x' WHERE seq = 2"});
  EXPECT_NE(update.exit_code, 0);
  EXPECT_NE(update.err.find("append-only"), std::string::npos) << update.err;
  auto remove = RunCommand({"sqlite3", test.db, "DELETE FROM merkle_nodes"});
  EXPECT_NE(remove.exit_code, 0);
  EXPECT_TRUE(VerifyDb(test.ledger).ok());
}

class TamperedDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_.emplace(CreateTestLedger(dir_));
    AppendMany(test_->ledger, 12);
    ASSERT_TRUE(test_->ledger.SignCheckpoint(test_->signer).ok());
  }
  // Reopens the ledger so nothing cached hides the edit.
  VerifyReport Verify() {
    auto reopened = Ledger::Open(test_->db);
    EXPECT_TRUE(reopened.ok());
    return VerifyDb(*reopened, test_->verifier);
  }

  TempDir dir_;
  std::optional<test::TestLedger> test_;
};

TEST_F(TamperedDatabaseTest, EditedPayloadIsFoundAtItsSeq) {
  Sqlite(test_->db,
         "DROP TRIGGER entries_no_update; "
         "UPDATE entries SET payload = '{\"n\":999}' WHERE seq = 5;");
  VerifyReport report = Verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems().front().where, "seq 5");
  EXPECT_NE(report.problems().front().what.find("does not match the entry's content"),
            std::string::npos);
  // The stored checkpoint no longer matches the tree either.
  EXPECT_NE(Problems(report).find("checkpoint at size 12"), std::string::npos);
}

TEST_F(TamperedDatabaseTest, EditedActorIsFound) {
  Sqlite(test_->db,
         "DROP TRIGGER entries_no_update; "
         "UPDATE entries SET actor = 'someone-else' WHERE seq = 9;");
  VerifyReport report = Verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems().front().where, "seq 9");
}

TEST_F(TamperedDatabaseTest, DeletedRowIsFound) {
  Sqlite(test_->db, "DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq = 3;");
  VerifyReport report = Verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems().front().where, "seq 4");
  EXPECT_NE(report.problems().front().what.find("entry 3 is missing"), std::string::npos);
}

TEST_F(TamperedDatabaseTest, DeletedTailIsFoundByTheCheckpoint) {
  Sqlite(test_->db, "DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq > 10;");
  VerifyReport report = Verify();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(Problems(report).find("checkpoint at size 12: the database holds only 10 entries"),
            std::string::npos)
      << Problems(report);
}

TEST_F(TamperedDatabaseTest, EditedMerkleNodeIsFound) {
  Sqlite(test_->db,
         "DROP TRIGGER merkle_nodes_no_update; "
         "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 2 AND last_leaf = 7;");
  VerifyReport report = Verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems().front().where, "Merkle node (level 2, index 1)");
}

TEST_F(TamperedDatabaseTest, ForgedCheckpointIsFound) {
  Sqlite(test_->db,
         "DROP TRIGGER checkpoints_no_update; "
         "UPDATE checkpoints SET note = replace(note, '\n12\n', '\n11\n');");
  VerifyReport report = Verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems().front().where, "checkpoint at size 12");
  EXPECT_NE(report.problems().front().what.find("does not verify"), std::string::npos);
}

TEST_F(TamperedDatabaseTest, SwappedCheckpointKeyIsFoundWithTheTrustedKey) {
  auto other = Ed25519PrivateKey::Generate();
  NoteVerifier fake = MakeNoteVerifier(test_->verifier.name, other->public_key()).value();
  Sqlite(test_->db, "UPDATE ledger_meta SET value = '" + FormatVerifierKey(fake) +
                        "' WHERE key = 'checkpoint_key';");
  VerifyReport report = Verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems().front().where, "ledger metadata");
  EXPECT_NE(report.problems().front().what.find("is not the trusted key"), std::string::npos);
}

}  // namespace
}  // namespace attest::ledger
