// CopyLedgerStore from a real SQLite ledger into PostgreSQL (copy.h): every
// row arrives as stored, the copy verifies with the same root, a target
// that holds a ledger is refused, and a source row that cannot be read
// leaves the target without a single row. Also: the ledger's PostgreSQL
// schema is exactly what PostgresLedgerTables names, and
// DropPostgresLedgerSql removes all of it.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "attest/ed25519.h"
#include "attest/ledger/copy.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/postgres_ledger_store.h"
#include "attest/ledger/verify.h"
#include "attest/pg/pg.h"
#include "attest/pg/test_cluster.h"

#include "test_util.h"

namespace attest::ledger::test {
namespace {

class PostgresCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok()) << database_.error();
    std::vector<NewEntry> batch;
    for (int n = 1; n <= 9; ++n) {
      batch.push_back(MakeEntry("config.changed", "{\"n\":" + std::to_string(n) + "}"));
    }
    ASSERT_TRUE(source_.ledger.AppendBatch(batch).ok());
    ASSERT_TRUE(source_.ledger.SignCheckpoint(source_.signer).ok());
    auto signer = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(source_.ledger
                    .Append(MakeSignedEntry(*signer, "artifact.approved",
                                            R"({"sha256":"00","path":"/usr/bin/runc"})"))
                    .ok());
    ASSERT_TRUE(source_.ledger.Append(MakeEntry("config.changed", "{\"n\":10}")).ok());
    ASSERT_TRUE(source_.ledger.SignCheckpoint(source_.signer).ok());
  }

  VerifyReport Verify(Ledger& ledger) {
    VerifyReport report;
    Status status = VerifyDatabase(ledger, source_.verifier, report);
    EXPECT_TRUE(status.ok()) << status.error().ToString();
    return report;
  }

  Result<pg::Connection> Sql() { return pg::Connection::Open(database_.url()); }

  // Table (or function) names of the database's public schema.
  std::set<std::string> Names(const std::string& sql) {
    std::set<std::string> names;
    auto connection = Sql();
    EXPECT_TRUE(connection.ok()) << connection.error().ToString();
    if (!connection.ok()) return names;
    auto rows = connection->Query("list", sql);
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    if (!rows.ok()) return names;
    for (int row = 0; row < rows->rows(); ++row) names.emplace(rows->Text(row, 0).value());
    return names;
  }
  std::set<std::string> Tables() {
    return Names("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'");
  }
  std::set<std::string> Functions() {
    return Names("SELECT proname::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace");
  }

  pg::test::TestDatabase database_;
  TempDir dir_;
  TestLedger source_ = CreateTestLedger(dir_);
};

TEST_F(PostgresCopyTest, EveryRowArrivesAsStoredAndTheCopyVerifiesWithTheSameRoot) {
  VerifyReport source_report = Verify(source_.ledger);
  ASSERT_TRUE(source_report.ok());
  auto target = CreatePostgresLedgerStore(database_.url(), {});
  ASSERT_TRUE(target.ok()) << target.error().ToString();
  auto counts = CopyLedgerStore(source_.ledger.store(), **target);
  ASSERT_TRUE(counts.ok()) << counts.error().ToString();
  EXPECT_EQ(counts->entries, 11u);
  EXPECT_EQ(counts->checkpoints, 2u);
  EXPECT_EQ(counts->meta, 2u);
  EXPECT_GT(counts->nodes, 0u);

  auto copy = Ledger::FromStore(std::move(target).value());
  ASSERT_TRUE(copy.ok()) << copy.error().ToString();
  VerifyReport report = Verify(*copy);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.entries, 11u);
  EXPECT_EQ(report.signed_entries, 1u);
  EXPECT_EQ(report.checkpoints_verified, 2u);
  EXPECT_EQ(report.root, source_report.root);
  EXPECT_EQ(copy->origin(), source_.ledger.origin());

  LedgerStore& from = source_.ledger.store();
  LedgerStore& to = copy->store();
  EXPECT_EQ(to.ReadAllMeta().value(), from.ReadAllMeta().value());
  for (std::uint64_t seq = 1; seq <= 11; ++seq) {
    Entry a = from.ReadEntry(seq).value();
    Entry b = to.ReadEntry(seq).value();
    EXPECT_EQ(EncodeEntry(a.seq, a.content), EncodeEntry(b.seq, b.content)) << seq;
    EXPECT_EQ(a.entry_hash, b.entry_hash) << seq;
    EXPECT_EQ(a.chain_hash, b.chain_hash) << seq;
  }
  std::vector<StoredCheckpoint> from_checkpoints = from.AllCheckpoints().value();
  std::vector<StoredCheckpoint> to_checkpoints = to.AllCheckpoints().value();
  ASSERT_EQ(to_checkpoints.size(), from_checkpoints.size());
  for (std::size_t i = 0; i < to_checkpoints.size(); ++i) {
    EXPECT_EQ(to_checkpoints[i].tree_size, from_checkpoints[i].tree_size);
    EXPECT_EQ(to_checkpoints[i].root_hash, from_checkpoints[i].root_hash);
    EXPECT_EQ(to_checkpoints[i].note, from_checkpoints[i].note);
    EXPECT_EQ(to_checkpoints[i].created_at, from_checkpoints[i].created_at);
  }
  // Proofs come from the copied nodes: the same as the source's.
  EXPECT_EQ(copy->ProveInclusion(3, 11).value(), source_.ledger.ProveInclusion(3, 11).value());
  EXPECT_EQ(copy->ProveConsistency(9, 11).value(), source_.ledger.ProveConsistency(9, 11).value());
  // And the copy goes on from there.
  ASSERT_TRUE(copy->Append(MakeEntry("config.changed", "{\"n\":11}")).ok());
  EXPECT_TRUE(Verify(*copy).ok());
}

TEST_F(PostgresCopyTest, ATargetThatHoldsALedgerIsRefusedAndKeptAsItWas) {
  auto key = Ed25519PrivateKey::Generate();
  auto store = CreatePostgresLedgerStore(database_.url(), {});
  ASSERT_TRUE(store.ok());
  auto existing =
      Ledger::Initialize(std::move(store).value(), "other.example/ledger", key->public_key());
  ASSERT_TRUE(existing.ok());
  auto counts = CopyLedgerStore(source_.ledger.store(), existing->store());
  ASSERT_FALSE(counts.ok());
  EXPECT_EQ(counts.error().code, ErrorCode::kAlreadyExists) << counts.error().ToString();
  EXPECT_EQ(existing->Size().value(), 0u);
  EXPECT_EQ(existing->store().ReadMeta("checkpoint_key").value(),
            FormatVerifierKey(existing->checkpoint_key()));
}

TEST_F(PostgresCopyTest, ASourceRowThatCannotBeReadLeavesTheTargetWithoutARow) {
  // Entry 7's hash cut to one byte: the source's cursor reports it corrupt.
  auto edit = RunCommand({"sqlite3", source_.db,
                          "DROP TRIGGER entries_no_update; "
                          "UPDATE entries SET entry_hash = x'00' WHERE seq = 7;"});
  ASSERT_EQ(edit.exit_code, 0) << edit.err;
  auto source = Ledger::Open(source_.db);
  ASSERT_TRUE(source.ok());
  auto target = CreatePostgresLedgerStore(database_.url(), {});
  ASSERT_TRUE(target.ok());
  auto counts = CopyLedgerStore(source->store(), **target);
  ASSERT_FALSE(counts.ok());
  EXPECT_EQ(counts.error().code, ErrorCode::kCorrupt) << counts.error().ToString();
  EXPECT_EQ((*target)->ReadTreeHead().value().size, 0u);
  EXPECT_TRUE((*target)->ReadAllMeta().value().empty());
  EXPECT_TRUE((*target)->AllCheckpoints().value().empty());
}

TEST_F(PostgresCopyTest, TheSchemaIsWhatPostgresLedgerTablesNamesAndTheDropSqlRemovesIt) {
  ASSERT_TRUE(Tables().empty());
  ASSERT_TRUE(CreatePostgresLedgerStore(database_.url(), {}).ok());
  std::vector<std::string> named = PostgresLedgerTables();
  EXPECT_EQ(Tables(), std::set<std::string>(named.begin(), named.end()));
  EXPECT_FALSE(Functions().empty());

  auto connection = Sql();
  ASSERT_TRUE(connection.ok());
  Status dropped = connection->ExecuteScript("drop", DropPostgresLedgerSql());
  ASSERT_TRUE(dropped.ok()) << dropped.error().ToString();
  EXPECT_TRUE(Tables().empty());
  EXPECT_TRUE(Functions().empty());
  EXPECT_TRUE(CreatePostgresLedgerStore(database_.url(), {}).ok());
}

}  // namespace
}  // namespace attest::ledger::test
