// Signer statements in a real SQLite ledger: submitted envelopes and
// revocations are entries whose signatures `ledger verify` re-checks, and
// the approved runtime set follows approvals and revocations by trusted keys.
#include "attest/signer/ledger_records.h"

#include <optional>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/ledger/verify.h"
#include "attest/signer/approvals.h"
#include "attest/signer/directory.h"
#include "attest/testing/test_support.h"

#include "test_time.h"

namespace attest::signer {
namespace {

using attest::test::RunCommand;
using attest::test::TempDir;
using attest::test::WriteText;

class LedgerRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = ledger::Ledger::Create(db_, "test.example/ledger",
                                          Ed25519PrivateKey::Generate().value().public_key());
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    ledger_.emplace(std::move(created).value());
  }

  Envelope SignContent(const std::string& name, const std::string& content,
                       Purpose purpose = Purpose::kArtifact, const Ed25519PrivateKey* key = nullptr,
                       TimePoint time = test::kSigningTime) {
    std::string path = dir_.File(name);
    WriteText(path, content);
    auto envelope = SignFile(path, key != nullptr ? *key : admin_, purpose, std::nullopt, time);
    EXPECT_TRUE(envelope.ok()) << envelope.error().ToString();
    return std::move(envelope).value();
  }
  std::uint64_t Submit(const Envelope& envelope) {
    auto seq = SubmitEnvelope(*ledger_, envelope, "ci");
    EXPECT_TRUE(seq.ok()) << seq.error().ToString();
    return seq.ok() ? *seq : 0;
  }
  std::uint64_t Revoke(const Sha256Digest& digest, const Ed25519PrivateKey& key,
                       TimePoint time = test::kSigningTime + std::chrono::hours(1)) {
    auto seq = RevokeArtifact(*ledger_, digest, key, "withdrawn in CR-7", time, "admin");
    EXPECT_TRUE(seq.ok()) << seq.error().ToString();
    return seq.ok() ? *seq : 0;
  }
  ApprovedSet Approved() {
    TrustedKeys trusted;
    trusted.Add(MakePublicKeyInfo(admin_.public_key()));
    auto approved = ApprovedRuntimeDigests(*ledger_, trusted);
    EXPECT_TRUE(approved.ok()) << approved.error().ToString();
    return approved.ok() ? *approved : ApprovedSet{};
  }
  ledger::VerifyReport VerifyLedger() {
    auto reopened = ledger::Ledger::Open(db_);  // nothing cached hides an edit
    EXPECT_TRUE(reopened.ok());
    ledger::VerifyReport report;
    Status status = ledger::VerifyDatabase(*reopened, std::nullopt, report);
    EXPECT_TRUE(status.ok()) << status.error().ToString();
    return report;
  }

  TempDir dir_;
  std::string db_ = dir_.File("ledger.db");
  std::optional<ledger::Ledger> ledger_;
  Ed25519PrivateKey admin_ = Ed25519PrivateKey::Generate().value();
  Ed25519PrivateKey stranger_ = Ed25519PrivateKey::Generate().value();
};

TEST_F(LedgerRecordsTest, EachPurposeIsItsKindAndLedgerVerifyRechecksIt) {
  for (Purpose purpose : {Purpose::kArtifact, Purpose::kConfig, Purpose::kPolicy}) {
    Envelope envelope = SignContent(std::string(PurposeName(purpose)), "content\n", purpose);
    std::uint64_t seq = Submit(envelope);
    auto entry = ledger_->Get(seq);
    ASSERT_TRUE(entry.ok()) << entry.error().ToString();
    EXPECT_EQ(entry->content.kind, LedgerKindFor(purpose));
    EXPECT_EQ(entry->content.actor, "ci");
    EXPECT_EQ(entry->content.payload, SignedPayload(envelope).value());
    ASSERT_TRUE(entry->content.signature.has_value());
    EXPECT_EQ(entry->content.signature->public_key, envelope.public_key);
    EXPECT_TRUE(ledger::VerifyEntrySignature(entry->content));
  }
  ledger::VerifyReport report = VerifyLedger();
  EXPECT_TRUE(report.ok()) << report.problems().front().what;
  EXPECT_EQ(report.entries, 3u);
  EXPECT_EQ(report.signed_entries, 3u);
}

TEST_F(LedgerRecordsTest, BadSignatureIsRefused) {
  Envelope envelope = SignContent("a", "a\n");
  envelope.signature[0] ^= 1;
  auto seq = SubmitEnvelope(*ledger_, envelope, "ci");
  ASSERT_FALSE(seq.ok());
  EXPECT_EQ(seq.error().code, ErrorCode::kVerificationFailed) << seq.error().ToString();
  EXPECT_EQ(ledger_->Size().value(), 0u);
}

TEST_F(LedgerRecordsTest, RevocationIsSignedForItsKindOnly) {
  Sha256Digest digest = SignContent("a", "a\n").sha256;
  std::uint64_t seq = Revoke(digest, admin_);
  ledger::Entry entry = ledger_->Get(seq).value();
  EXPECT_EQ(entry.content.kind, "artifact.revoked");
  EXPECT_EQ(entry.content.payload, "{\"key_id\":\"" + KeyIdOf(admin_.public_key()) +
                                       "\",\"reason\":\"withdrawn in CR-7\",\"sha256\":\"" +
                                       HexEncode(digest) +
                                       "\",\"time\":\"2026-11-18T12:06:40.000000Z\"}");
  EXPECT_TRUE(ledger::VerifyEntrySignature(entry.content));
  auto parsed = ParseRevocationPayload(entry.content.payload, "entry");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->sha256, digest);
  EXPECT_EQ(parsed->reason, "withdrawn in CR-7");
  entry.content.kind = "artifact.approved";  // not replayable as an approval
  EXPECT_FALSE(ledger::VerifyEntrySignature(entry.content));
  EXPECT_TRUE(VerifyLedger().ok());
}

TEST_F(LedgerRecordsTest, ApprovalsThenRevocationChangeTheApprovedSet) {
  Envelope a = SignContent("a", "a\n");
  Envelope b = SignContent("b", "b\n");
  Submit(a);
  Submit(b);
  Submit(SignContent("c", "c\n", Purpose::kConfig));  // not a runtime approval
  EXPECT_EQ(Approved().digests, (std::set<Sha256Digest>{a.sha256, b.sha256}));

  Revoke(a.sha256, admin_);
  ApprovedSet approved = Approved();
  EXPECT_EQ(approved.digests, (std::set<Sha256Digest>{b.sha256}));
  EXPECT_EQ(approved.ignored_entries, 0u);

  // Approved again by a statement signed after the revocation.
  Submit(SignContent("a", "a\n", Purpose::kArtifact, nullptr,
                     test::kSigningTime + std::chrono::hours(2)));
  EXPECT_EQ(Approved().digests, (std::set<Sha256Digest>{a.sha256, b.sha256}));
  EXPECT_TRUE(VerifyLedger().ok());
}

// Anyone who can append to the ledger could copy an old approval after its
// revocation; the signed times decide, not the order of entries.
TEST_F(LedgerRecordsTest, ReplayedApprovalDoesNotUndoARevocation) {
  Envelope a = SignContent("a", "a\n");
  Submit(a);
  Revoke(a.sha256, admin_);
  Submit(a);  // the same signed statement, appended again
  ApprovedSet approved = Approved();
  EXPECT_TRUE(approved.digests.empty());
  EXPECT_EQ(approved.ignored_entries, 0u);
  // And an old revocation copied after a newer approval withdraws nothing.
  Submit(SignContent("a", "a\n", Purpose::kArtifact, nullptr,
                     test::kSigningTime + std::chrono::hours(2)));
  Revoke(a.sha256, admin_, test::kSigningTime + std::chrono::hours(1));
  EXPECT_EQ(Approved().digests, (std::set<Sha256Digest>{a.sha256}));
}

// A post-dated approval would outlast every revocation until its date.
TEST_F(LedgerRecordsTest, ApprovalSignedAfterTheLedgerRecordedItIsIgnored) {
  Envelope future = SignContent("a", "a\n", Purpose::kArtifact, nullptr,
                                std::chrono::system_clock::now() + std::chrono::hours(24));
  Submit(future);
  ApprovedSet approved = Approved();
  EXPECT_TRUE(approved.digests.empty());
  EXPECT_EQ(approved.ignored_entries, 1u);
  // Within the five minutes a signer's clock may run ahead: counted.
  Submit(SignContent("b", "b\n", Purpose::kArtifact, nullptr,
                     std::chrono::system_clock::now() + std::chrono::minutes(2)));
  EXPECT_EQ(Approved().digests.size(), 1u);
}

TEST_F(LedgerRecordsTest, ApprovalByUntrustedKeyIsIgnored) {
  Envelope mine = SignContent("a", "a\n");
  Envelope theirs = SignContent("b", "b\n", Purpose::kArtifact, &stranger_);
  Submit(mine);
  Submit(theirs);
  ApprovedSet approved = Approved();
  EXPECT_EQ(approved.digests, (std::set<Sha256Digest>{mine.sha256}));
  EXPECT_EQ(approved.ignored_entries, 1u);
}

// The approved set used to trust a key id (64 bits); ids are public, so
// anyone can write a trusted key's id into a statement signed by their own
// key. The ledger accepts it (the signature is valid); the set must not.
TEST_F(LedgerRecordsTest, ApprovalNamingATrustedKeyIdButSignedByAnotherKeyIsIgnored) {
  Envelope forged = SignContent("evil", "evil\n", Purpose::kArtifact, &stranger_);
  forged.key_id = KeyIdOf(admin_.public_key());
  ledger::NewEntry entry;
  entry.kind = "artifact.approved";
  entry.actor = "mallory";
  entry.payload_json = SignedPayload(forged).value();
  entry.signature =
      ledger::EntrySignature{stranger_.public_key(), stranger_.Sign(SignedMessage(forged).value())};
  auto appended = ledger_->Append(entry);
  ASSERT_TRUE(appended.ok()) << appended.error().ToString();
  ASSERT_NE(entry.payload_json.find(KeyIdOf(admin_.public_key())), std::string::npos);

  // The same for a revocation of a real approval.
  Envelope real = SignContent("a", "a\n");
  Submit(real);
  Revocation revocation{real.sha256, std::nullopt, KeyIdOf(admin_.public_key()),
                        "2026-11-18T11:06:40.000000Z"};
  entry.kind = std::string(kRevokedKind);
  entry.payload_json = RevocationPayload(revocation).value();
  entry.signature = ledger::EntrySignature{
      stranger_.public_key(),
      stranger_.Sign(ledger::SignedMessage(kRevokedKind, entry.payload_json))};
  ASSERT_TRUE(ledger_->Append(entry).ok());

  ApprovedSet approved = Approved();
  EXPECT_EQ(approved.digests, (std::set<Sha256Digest>{real.sha256}));
  EXPECT_EQ(approved.ignored_entries, 2u);
  EXPECT_TRUE(VerifyLedger().ok());
}

// An artifact signature over a directory's manifest names the manifest's
// digest, not a binary's: it approves no runtime digest.
TEST_F(LedgerRecordsTest, ApprovalOfADirectoryManifestIsNotARuntimeApproval) {
  TempDir tree;
  WriteText(tree.File("runc"), "binary\n");
  auto envelope =
      SignDirectory(tree.path(), admin_, Purpose::kArtifact, std::nullopt, test::kSigningTime);
  ASSERT_TRUE(envelope.ok()) << envelope.error().ToString();
  std::uint64_t seq = Submit(*envelope);
  EXPECT_NE(ledger_->Get(seq).value().content.payload.find("\"digest_of\":\"manifest\""),
            std::string::npos);
  ApprovedSet approved = Approved();
  EXPECT_TRUE(approved.digests.empty());
  EXPECT_EQ(approved.ignored_entries, 1u);
  EXPECT_TRUE(VerifyLedger().ok());
}

TEST_F(LedgerRecordsTest, RevocationByUntrustedKeyDoesNotRevoke) {
  Envelope a = SignContent("a", "a\n");
  Submit(a);
  Revoke(a.sha256, stranger_);
  ApprovedSet approved = Approved();
  EXPECT_EQ(approved.digests, (std::set<Sha256Digest>{a.sha256}));
  EXPECT_EQ(approved.ignored_entries, 1u);
}

TEST_F(LedgerRecordsTest, NoTrustedKeysApproveNothing) {
  Submit(SignContent("a", "a\n"));
  auto approved = ApprovedRuntimeDigests(*ledger_, TrustedKeys{});
  ASSERT_TRUE(approved.ok());
  EXPECT_TRUE(approved->digests.empty());
  EXPECT_EQ(approved->ignored_entries, 1u);
}

TEST_F(LedgerRecordsTest, ForgedSignatureIsReportedByLedgerVerifyAndIgnored) {
  Envelope a = SignContent("a", "a\n");
  Envelope b = SignContent("b", "b\n");
  Submit(a);
  Submit(b);
  ledger_.reset();
  auto edit = RunCommand({"sqlite3", db_,
                          "DROP TRIGGER entries_no_update; "
                          "UPDATE entries SET signature = zeroblob(64) WHERE seq = 2;"});
  ASSERT_EQ(edit.exit_code, 0) << edit.err;

  ledger::VerifyReport report = VerifyLedger();
  ASSERT_FALSE(report.ok());
  bool signature_reported = false;
  for (const ledger::VerifyProblem& problem : report.problems()) {
    if (problem.where == "seq 2" && problem.what.find("does not verify") != std::string::npos) {
      signature_reported = true;
    }
  }
  EXPECT_TRUE(signature_reported) << report.problems().front().where << ": "
                                  << report.problems().front().what;

  ledger_.emplace(ledger::Ledger::Open(db_).value());
  ApprovedSet approved = Approved();
  EXPECT_EQ(approved.digests, (std::set<Sha256Digest>{a.sha256}));
  EXPECT_EQ(approved.ignored_entries, 1u);
}

class PolicySignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(policy_, "{\"runtime\":\"strict\"}\n");
    admins_.Add(MakePublicKeyInfo(admin_.public_key()));
  }
  VerifyReason Check(const Envelope& envelope) {
    auto result = VerifyPolicySignature(policy_, envelope, admins_);
    EXPECT_TRUE(result.ok()) << result.error().ToString();
    return result.ok() ? result->reason : VerifyReason::kValid;
  }
  Envelope Sign(const Ed25519PrivateKey& key, Purpose purpose = Purpose::kPolicy) {
    return SignFile(policy_, key, purpose, std::nullopt, test::kSigningTime).value();
  }

  TempDir dir_;
  std::string policy_ = dir_.File("policy.json");
  Ed25519PrivateKey admin_ = Ed25519PrivateKey::Generate().value();
  TrustedKeys admins_;
};

TEST_F(PolicySignatureTest, Valid) { EXPECT_EQ(Check(Sign(admin_)), VerifyReason::kValid); }

TEST_F(PolicySignatureTest, FileChanged) {
  Envelope envelope = Sign(admin_);
  WriteText(policy_, "{\"runtime\":\"lax\"}\n");
  EXPECT_EQ(Check(envelope), VerifyReason::kFileChanged);
}

TEST_F(PolicySignatureTest, UntrustedKey) {
  EXPECT_EQ(Check(Sign(Ed25519PrivateKey::Generate().value())), VerifyReason::kUntrustedKey);
}

TEST_F(PolicySignatureTest, ArtifactEnvelopeIsNotAPolicySignature) {
  EXPECT_EQ(Check(Sign(admin_, Purpose::kArtifact)), VerifyReason::kWrongPurpose);
}

}  // namespace
}  // namespace attest::signer
