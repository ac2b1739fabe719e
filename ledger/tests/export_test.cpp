// Exports and their offline verification: every kind of tampering an
// auditor must catch is caught, and reported at its line.
#include "attest/ledger/export.h"

#include <sstream>

#include <gtest/gtest.h>

#include "attest/ledger/verify.h"

#include "test_util.h"

namespace attest::ledger {
namespace {

using test::CreateTestLedger;
using test::JoinLines;
using test::MakeEntry;
using test::MakeSignedEntry;
using test::SplitLines;
using test::TempDir;

std::string Export(Ledger& ledger, const NoteSigner& signer, ExportFormat format) {
  auto checkpoint = ledger.SignCheckpoint(signer);
  EXPECT_TRUE(checkpoint.ok());
  std::ostringstream out;
  EXPECT_TRUE(WriteExport(ledger, *checkpoint, format, out).ok());
  return out.str();
}

VerifyReport Verify(const std::string& text, const NoteVerifier& key) {
  std::istringstream input(text);
  VerifyReport report;
  EXPECT_TRUE(VerifyExport(input, key, report).ok());
  return report;
}

std::string DescribeReport(const VerifyReport& report) {
  std::string text;
  for (const auto& problem : report.problems()) text += problem.where + ": " + problem.what + "\n";
  return text;
}

// Ten entries (the fourth signed by a release key), checkpointed and exported.
class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_.emplace(CreateTestLedger(dir_, "audit.example/export"));
    release_key_.emplace(Ed25519PrivateKey::Generate().value());
    for (int n = 1; n <= 10; ++n) {
      NewEntry entry = n == 4 ? MakeSignedEntry(*release_key_, "artifact.approved",
                                                R"({"path":"/usr/bin/runc","sha256":"ab"})")
                              : MakeEntry("node.trusted", "{\"node\":\"n" + std::to_string(n) +
                                                              "\",\"attempt\":1}");
      ASSERT_TRUE(test_->ledger.Append(entry).ok());
    }
    text_ = Export(test_->ledger, test_->signer, ExportFormat::kJsonLines);
    lines_ = SplitLines(text_);
    ASSERT_EQ(lines_.size(), 11u);  // 10 entries and the checkpoint
  }

  // Expects exactly one problem... or at least that the first names `where`.
  void ExpectFirstProblem(const std::string& text, const std::string& where,
                          const std::string& what) {
    VerifyReport report = Verify(text, test_->verifier);
    ASSERT_FALSE(report.ok()) << "tampering went unnoticed";
    EXPECT_EQ(report.problems().front().where, where) << DescribeReport(report);
    EXPECT_NE(report.problems().front().what.find(what), std::string::npos)
        << DescribeReport(report);
  }

  TempDir dir_;
  std::optional<test::TestLedger> test_;
  std::optional<Ed25519PrivateKey> release_key_;
  std::string text_;
  std::vector<std::string> lines_;
};

TEST_F(ExportTest, UntouchedExportVerifies) {
  VerifyReport report = Verify(text_, test_->verifier);
  EXPECT_TRUE(report.ok()) << DescribeReport(report);
  EXPECT_EQ(report.entries, 10u);
  EXPECT_EQ(report.signed_entries, 1u);
  EXPECT_EQ(report.checkpoints_verified, 1u);
  EXPECT_EQ(report.latest_checkpoint->tree_size, 10u);
  EXPECT_EQ(report.latest_checkpoint->root_hash, *test_->ledger.RootAt(10));
}

TEST_F(ExportTest, ReformattedPayloadStillVerifies) {
  // Canonicalization makes key order and whitespace irrelevant: an auditor's
  // pretty-printer cannot break verification.
  std::string& line = lines_[1];
  const std::string original = "\"payload\":{\"attempt\":1,\"node\":\"n2\"}";
  auto at = line.find(original);
  ASSERT_NE(at, std::string::npos) << line;
  line.replace(at, original.size(), "\"payload\": { \"node\" : \"n2\", \"attempt\" : 1.0 }");
  VerifyReport report = Verify(JoinLines(lines_), test_->verifier);
  EXPECT_TRUE(report.ok()) << DescribeReport(report);
}

TEST_F(ExportTest, ChangedPayloadByteIsFound) {
  auto at = lines_[6].find("\"n7\"");
  ASSERT_NE(at, std::string::npos);
  lines_[6][at + 2] = '8';
  ExpectFirstProblem(JoinLines(lines_), "line 7 (seq 7)", "does not match the entry's content");
  // ...and the checkpoint no longer matches the entries.
  VerifyReport report = Verify(JoinLines(lines_), test_->verifier);
  EXPECT_NE(DescribeReport(report).find("line 11 (checkpoint): checkpoint root"),
            std::string::npos);
}

TEST_F(ExportTest, ChangedSignedPayloadIsFound) {
  auto at = lines_[3].find("/usr/bin/runc");
  ASSERT_NE(at, std::string::npos);
  lines_[3].replace(at, 13, "/usr/bin/evil");
  VerifyReport report = Verify(JoinLines(lines_), test_->verifier);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems()[0].where, "line 4 (seq 4)");
  EXPECT_NE(DescribeReport(report).find("signature by key " + KeyIdOf(release_key_->public_key())),
            std::string::npos)
      << DescribeReport(report);
}

TEST_F(ExportTest, DroppedLineIsFound) {
  lines_.erase(lines_.begin() + 4);  // seq 5
  ExpectFirstProblem(JoinLines(lines_), "line 5 (seq 6)", "entry 5 is missing");
}

TEST_F(ExportTest, SwappedLinesAreFound) {
  std::swap(lines_[2], lines_[3]);
  ExpectFirstProblem(JoinLines(lines_), "line 3 (seq 4)", "missing or out of order");
  VerifyReport report = Verify(JoinLines(lines_), test_->verifier);
  EXPECT_NE(DescribeReport(report).find("line 4 (seq 3): seq 3 comes after seq 4"),
            std::string::npos)
      << DescribeReport(report);
}

TEST_F(ExportTest, LineAppendedAfterTheCheckpointIsFound) {
  // A perfectly well-formed next entry, added after the checkpoint line.
  ASSERT_TRUE(test_->ledger.Append(MakeEntry("node.untrusted", R"({"node":"n11"})")).ok());
  std::string extra;
  AppendEntryLine(*test_->ledger.Get(11), extra);
  lines_.push_back(extra);
  ExpectFirstProblem(JoinLines(lines_), "line 12 (seq 11)", "entry after the checkpoint line");
}

TEST_F(ExportTest, ForgedCheckpointSignatureIsFound) {
  std::string& checkpoint = lines_.back();
  auto signature = checkpoint.rfind(' ');  // the base64 blob after the key name
  ASSERT_NE(signature, std::string::npos);
  char& c = checkpoint[signature + 10];
  c = c == 'A' ? 'B' : 'A';
  ExpectFirstProblem(JoinLines(lines_), "line 11 (checkpoint)", "does not verify");
}

TEST_F(ExportTest, CheckpointSizeEditedIsFound) {
  auto at = lines_.back().find("\\n10\\n");
  ASSERT_NE(at, std::string::npos);
  lines_.back().replace(at, 6, "\\n9\\n");
  ExpectFirstProblem(JoinLines(lines_), "line 11 (checkpoint)", "does not verify");
}

TEST_F(ExportTest, TruncatedFileIsFound) {
  // Cut inside the checkpoint line, inside an entry line, and at a line end.
  ExpectFirstProblem(text_.substr(0, text_.size() - 30), "line 11", "truncated");
  std::size_t inside_line_6 = text_.find("\"seq\":6") + 20;
  VerifyReport cut = Verify(text_.substr(0, inside_line_6), test_->verifier);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(DescribeReport(cut).find("line 6: the file ends in the middle of this line"),
            std::string::npos)
      << DescribeReport(cut);
  lines_.pop_back();
  ExpectFirstProblem(JoinLines(lines_), "end of file (line 10)", "no checkpoint line");
  ExpectFirstProblem("", "end of file (line 0)", "no checkpoint line");
}

TEST_F(ExportTest, CheckpointFromAnotherKeyIsFound) {
  // The attacker rebuilds a complete, self-consistent ledger under the same
  // origin with their own key and exports it.
  TempDir other_dir;
  auto forged = CreateTestLedger(other_dir, "audit.example/export");
  for (int n = 1; n <= 10; ++n) {
    ASSERT_TRUE(forged.ledger.Append(MakeEntry("node.trusted", "{\"node\":\"forged\"}")).ok());
  }
  std::string forged_export = Export(forged.ledger, forged.signer, ExportFormat::kJsonLines);
  ASSERT_TRUE(Verify(forged_export, forged.verifier).ok());
  ExpectFirstProblem(forged_export, "line 11 (checkpoint)",
                     "not signed by " + DescribeKey(test_->verifier.name, test_->verifier.key_id));
}

TEST_F(ExportTest, MalformedLinesAreNamed) {
  lines_[1] = "{not json";
  lines_[2].insert(1, "\"extra\":1,");
  VerifyReport report = Verify(JoinLines(lines_), test_->verifier);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems()[0].where, "line 2");
  EXPECT_NE(report.problems()[0].what.find("invalid JSON"), std::string::npos);
  EXPECT_EQ(report.problems()[1].where, "line 3");
  EXPECT_NE(report.problems()[1].what.find("field \"extra\""), std::string::npos);
}

TEST_F(ExportTest, KeyIdMustMatchThePublicKey) {
  auto at = lines_[3].find("\"key_id\":\"");
  ASSERT_NE(at, std::string::npos);
  lines_[3][at + 10] = lines_[3][at + 10] == '0' ? '1' : '0';
  ExpectFirstProblem(JoinLines(lines_), "line 4", "is not the id of \"public_key\"");
}

TEST_F(ExportTest, CsvIsSpreadsheetSafe) {
  ASSERT_TRUE(
      test_->ledger.Append(MakeEntry("config.changed", R"({"x":"a,b"})", "=HYPERLINK(1)")).ok());
  std::string csv = Export(test_->ledger, test_->signer, ExportFormat::kCsv);
  std::vector<std::string> rows = SplitLines(csv);
  ASSERT_EQ(rows.size(), 12u);  // header and 11 entries, no checkpoint
  EXPECT_EQ(rows[0], "seq,time,kind,actor,key_id,payload,entry_hash,chain_hash\r");
  EXPECT_NE(rows[11].find(",config.changed,\"'=HYPERLINK(1)\",,\"{\"\"x\"\":\"\"a,b\"\"}\","),
            std::string::npos)
      << rows[11];
  EXPECT_NE(rows[4].find("," + KeyIdOf(release_key_->public_key()) + ","), std::string::npos);
}

// The streaming fast path must decide exactly like the DOM parser, including
// on the lines it hands over to it.
TEST(ExportLineTest, FastPathAndDomParserAgree) {
  const std::string hash(64, 'a');
  const std::string tail = ",\"entry_hash\":\"" + hash + "\",\"chain_hash\":\"" + hash + "\"}";
  const std::string head = R"({"seq":1,"time":"t","kind":"node.enrolled","actor":"a",)";
  const std::vector<std::string> lines = {
      head + R"("payload":{"a":1,"b":[1.5,"x",null,true]})" + tail,  // canonical
      head + R"("payload":{"b":1,"a":2})" + tail,                    // members out of order
      head + R"("payload":{ "a" : 1.0 })" + tail,                    // not canonical numbers
      head + R"("payload":{"a":1,"a":1})" + tail,                    // repeated member
      head + R"("payload":{"a":1},"payload":{"a":1})" + tail,        // repeated field
      head + R"("payload":{"a":1},"extra":1)" + tail,                // unknown field
      head + R"("payload":[1])" + tail,                              // not an object
      head + R"("payload":{"a":9007199254740993})" + tail,           // inexact number
      R"({"seq":1.0,"time":"t","kind":"k.k","actor":"a","payload":{})" + tail,  // float seq
      R"({"seq":0,"time":"t","kind":"k.k","actor":"a","payload":{})" + tail,    // seq 0
      R"({"seq":-1,"time":"t","kind":"k.k","actor":"a","payload":{})" + tail,   // negative seq
      R"({"seq":1,"time":5,"kind":"k.k","actor":"a","payload":{})" + tail,      // wrong type
      head + R"("payload":{})" + ",\"entry_hash\":\"" + std::string(64, 'A') +
          "\",\"chain_hash\":\"" + hash + "\"}",  // uppercase hex
      head + R"("payload":{},"key_id":"00","public_key":"AA==","signature":"AA==")" + tail,
      head + R"("payload":{})" + tail.substr(0, tail.size() - 1),  // unterminated
      R"({"checkpoint":"x\n"})",
      R"({"checkpoint":"x\n","seq":1})",
      R"({"checkpoint":1})",
  };
  for (const std::string& line : lines) {
    ExportLine fast;
    ExportLine reference;
    Status fast_status = ParseExportLine(line, fast);
    Status reference_status = ParseExportLineWithDom(line, reference);
    ASSERT_EQ(fast_status.ok(), reference_status.ok()) << line;
    if (!fast_status.ok()) {
      EXPECT_EQ(fast_status.error().message, reference_status.error().message) << line;
      EXPECT_EQ(fast_status.error().code, ErrorCode::kCorrupt) << line;
      EXPECT_EQ(reference_status.error().code, ErrorCode::kCorrupt) << line;
      continue;
    }
    EXPECT_EQ(fast.is_checkpoint, reference.is_checkpoint) << line;
    EXPECT_EQ(fast.entry.content.payload, reference.entry.content.payload) << line;
    EXPECT_EQ(fast.entry.seq, reference.entry.seq) << line;
  }
  // The first three are valid; the reordered and re-spelled payloads
  // canonicalize to what the fast path would have produced.
  ExportLine reordered;
  ASSERT_TRUE(ParseExportLine(lines[1], reordered).ok());
  EXPECT_EQ(reordered.entry.content.payload, R"({"a":2,"b":1})");
  ASSERT_TRUE(ParseExportLine(lines[2], reordered).ok());
  EXPECT_EQ(reordered.entry.content.payload, R"({"a":1})");
}

}  // namespace
}  // namespace attest::ledger
