// Verification against what the auditor holds from elsewhere: a checkpoint
// kept from earlier and a minimum size. An export cut back to an earlier
// checkpoint, or a rewritten history re-signed with the real key, is
// self-consistent; only this reference catches it.
#include <sstream>

#include <gtest/gtest.h>

#include "attest/ledger/export.h"
#include "attest/ledger/verify.h"

#include "test_util.h"

namespace attest::ledger {
namespace {

using test::CreateTestLedger;
using test::MakeEntry;
using test::TempDir;

std::string Describe(const VerifyReport& report) {
  std::string text;
  for (const auto& problem : report.problems()) text += problem.where + ": " + problem.what + "\n";
  return text;
}

Checkpoint Trusted(std::uint64_t size, const Hash& root) {
  return Checkpoint{"audit.example/reference", size, root};
}

Hash NumberedLeaf(int n) {
  const std::string data = "leaf " + std::to_string(n);
  return LeafHash(ByteView(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

// The root of leaves 1..size, from the library's compact range.
Hash RootOf(int size) {
  CompactRange range;
  for (int n = 1; n <= size; ++n) EXPECT_TRUE(range.Append(NumberedLeaf(n)).ok());
  return range.Root();
}

TEST(CheckTrustedReferenceTest, TreeSmallerThanTheCheckpointIsRefusedNamingBothSizes) {
  TrustedReference reference{Trusted(8, RootOf(8)), "kept.txt", 0};
  VerifyReport report;
  CheckTrustedReference(reference, "the export", 5, std::nullopt, report);
  ASSERT_EQ(report.problem_count(), 1u);
  EXPECT_EQ(report.problems()[0].where, "trusted checkpoint kept.txt");
  EXPECT_NE(report.problems()[0].what.find(
                "the export holds 5 entries but the trusted checkpoint commits to 8"),
            std::string::npos)
      << Describe(report);
  EXPECT_NE(report.problems()[0].what.find("3 entries removed"), std::string::npos);
}

TEST(CheckTrustedReferenceTest, OtherRootAtTheCheckpointSizeIsRefused) {
  TrustedReference reference{Trusted(8, RootOf(8)), "kept.txt", 0};
  VerifyReport report;
  CheckTrustedReference(reference, "the export", 12, RootOf(7), report);
  ASSERT_EQ(report.problem_count(), 1u);
  EXPECT_NE(report.problems()[0].what.find("the first 8 of the 12 entries the export holds"),
            std::string::npos)
      << Describe(report);
  EXPECT_NE(report.problems()[0].what.find("history differs"), std::string::npos);
}

TEST(CheckTrustedReferenceTest, MatchingPrefixAndEnoughEntriesPass) {
  TrustedReference reference{Trusted(8, RootOf(8)), "kept.txt", 12};
  VerifyReport report;
  CheckTrustedReference(reference, "the export", 12, RootOf(8), report);
  EXPECT_TRUE(report.ok()) << Describe(report);
  // No reference at all checks nothing.
  CheckTrustedReference(TrustedReference{}, "the export", 0, std::nullopt, report);
  EXPECT_TRUE(report.ok()) << Describe(report);
}

TEST(CheckTrustedReferenceTest, TooFewEntriesForMinSizeAreRefusedNamingBothNumbers) {
  TrustedReference reference{std::nullopt, "", 8};
  VerifyReport report;
  CheckTrustedReference(reference, "the database", 5, std::nullopt, report);
  ASSERT_EQ(report.problem_count(), 1u);
  EXPECT_EQ(report.problems()[0].where, "minimum size 8");
  EXPECT_NE(report.problems()[0].what.find("the database holds 5 entries, fewer than the "
                                           "required 8"),
            std::string::npos)
      << Describe(report);
}

TEST(CheckTrustedReferenceTest, MissingPrefixRootFailsClosed) {
  // A caller that forgot to watch the checkpoint's size must not pass.
  TrustedReference reference{Trusted(8, RootOf(8)), "kept.txt", 0};
  VerifyReport report;
  CheckTrustedReference(reference, "the export", 12, std::nullopt, report);
  EXPECT_FALSE(report.ok());
}

TEST(EntrySequenceCheckerTest, WatchedRootIsTheRootAtThatSize) {
  VerifyReport report;
  EntrySequenceChecker empty(report);
  empty.WatchSize(0);
  ASSERT_TRUE(empty.watched_root().has_value());
  EXPECT_EQ(*empty.watched_root(), EmptyRoot());
}

// A ledger of 5 entries exported at its checkpoint, then grown to 8 and
// checkpointed again: the later checkpoint is what the auditor kept.
class TrustedReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_.emplace(CreateTestLedger(dir_, "audit.example/reference"));
    Append(test_->ledger, 1, 5, "real");
    early_export_ = Export(test_->ledger);
    early_checkpoint_ =
        *OpenCheckpoint(test_->ledger.LatestCheckpoint()->value().note, test_->verifier);
    Append(test_->ledger, 6, 8, "real");
    later_export_ = Export(test_->ledger);
    later_checkpoint_ =
        *OpenCheckpoint(test_->ledger.LatestCheckpoint()->value().note, test_->verifier);
  }

  static void Append(Ledger& ledger, int first, int last, const std::string& history) {
    for (int n = first; n <= last; ++n) {
      ASSERT_TRUE(ledger
                      .Append(MakeEntry("node.trusted", "{\"n\":" + std::to_string(n) +
                                                            ",\"history\":\"" + history + "\"}"))
                      .ok());
    }
  }

  std::string Export(Ledger& ledger) {
    auto checkpoint = ledger.SignCheckpoint(test_->signer);
    EXPECT_TRUE(checkpoint.ok());
    std::ostringstream out;
    EXPECT_TRUE(WriteExport(ledger, *checkpoint, ExportFormat::kJsonLines, out).ok());
    return out.str();
  }

  VerifyReport Verify(const std::string& text, const TrustedReference& reference) {
    std::istringstream input(text);
    VerifyReport report;
    EXPECT_TRUE(VerifyExport(input, test_->verifier, report, reference).ok());
    return report;
  }

  TempDir dir_;
  std::optional<test::TestLedger> test_;
  std::string early_export_;
  std::string later_export_;
  Checkpoint early_checkpoint_;
  Checkpoint later_checkpoint_;
};

TEST_F(TrustedReferenceTest, ExportCutBackToAnEarlierCheckpointIsRefusedByTheLaterOne) {
  ASSERT_EQ(early_checkpoint_.tree_size, 5u);
  ASSERT_EQ(later_checkpoint_.tree_size, 8u);
  // On its own the earlier export is a perfectly valid export: the hole.
  ASSERT_TRUE(Verify(early_export_, {}).ok());
  VerifyReport report = Verify(early_export_, {later_checkpoint_, "later.txt", 0});
  ASSERT_EQ(report.problem_count(), 1u) << Describe(report);
  EXPECT_EQ(report.problems()[0].where, "trusted checkpoint later.txt");
  EXPECT_NE(report.problems()[0].what.find(
                "the export holds 5 entries but the trusted checkpoint commits to 8"),
            std::string::npos)
      << Describe(report);
}

TEST_F(TrustedReferenceTest, ExportCutBackIsRefusedByMinSize) {
  VerifyReport report = Verify(early_export_, {std::nullopt, "", 8});
  ASSERT_EQ(report.problem_count(), 1u) << Describe(report);
  EXPECT_NE(report.problems()[0].what.find("the export holds 5 entries, fewer than the required 8"),
            std::string::npos)
      << Describe(report);
  EXPECT_TRUE(Verify(early_export_, {std::nullopt, "", 5}).ok());
}

TEST_F(TrustedReferenceTest, HonestLongerExportExtendsAnEarlierCheckpoint) {
  VerifyReport report = Verify(later_export_, {early_checkpoint_, "early.txt", 8});
  EXPECT_TRUE(report.ok()) << Describe(report);
  // ...and a checkpoint of exactly its own size.
  EXPECT_TRUE(Verify(later_export_, {later_checkpoint_, "later.txt", 0}).ok());
}

TEST_F(TrustedReferenceTest, ForkedHistoryResignedWithTheRealKeyIsRefused) {
  // The writer keeps the key, rebuilds the ledger with entries 3.. changed
  // and grows it past the auditor's checkpoint: chain, tree and checkpoint
  // are all consistent and signed by the real key.
  TempDir fork_dir;
  auto fork =
      Ledger::Create(fork_dir.File("fork.db"), test_->verifier.name, test_->verifier.public_key);
  ASSERT_TRUE(fork.ok()) << fork.error().ToString();
  Append(*fork, 1, 2, "real");
  Append(*fork, 3, 10, "forged");
  const std::string forked_export = Export(*fork);
  ASSERT_TRUE(Verify(forked_export, {}).ok()) << "the fork must be self-consistent";
  VerifyReport report = Verify(forked_export, {later_checkpoint_, "later.txt", 0});
  ASSERT_EQ(report.problem_count(), 1u) << Describe(report);
  EXPECT_EQ(report.problems()[0].where, "trusted checkpoint later.txt");
  EXPECT_NE(report.problems()[0].what.find("the first 8 of the 10 entries the export holds"),
            std::string::npos)
      << Describe(report);
  EXPECT_NE(report.problems()[0].what.find("history differs"), std::string::npos);
}

TEST_F(TrustedReferenceTest, DatabaseCutBackIsRefusedByTheLaterCheckpoint) {
  // A database holding only the first 5 entries, under the real key: what a
  // writer who deleted the tail (and its checkpoints) leaves behind.
  TempDir cut_dir;
  auto cut =
      Ledger::Create(cut_dir.File("cut.db"), test_->verifier.name, test_->verifier.public_key);
  ASSERT_TRUE(cut.ok()) << cut.error().ToString();
  Append(*cut, 1, 5, "real");
  ASSERT_TRUE(cut->SignCheckpoint(test_->signer).ok());
  VerifyReport alone;
  ASSERT_TRUE(VerifyDatabase(*cut, test_->verifier, alone).ok());
  ASSERT_TRUE(alone.ok()) << Describe(alone);

  VerifyReport report;
  ASSERT_TRUE(
      VerifyDatabase(*cut, test_->verifier, report, {later_checkpoint_, "later.txt", 0}).ok());
  ASSERT_EQ(report.problem_count(), 1u) << Describe(report);
  EXPECT_NE(report.problems()[0].what.find(
                "the database holds 5 entries but the trusted checkpoint commits to 8"),
            std::string::npos)
      << Describe(report);
  VerifyReport extended;
  ASSERT_TRUE(
      VerifyDatabase(test_->ledger, test_->verifier, extended, {early_checkpoint_, "early.txt", 8})
          .ok());
  EXPECT_TRUE(extended.ok()) << Describe(extended);
}

}  // namespace
}  // namespace attest::ledger
