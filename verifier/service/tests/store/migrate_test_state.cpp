// The migrate tests' deployment, see migrate_test_state.h.
#include "tests/store/migrate_test_state.h"

#include <gtest/gtest.h>

#include "attest/file.h"
#include "attest/ledger/kinds.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/verify.h"
#include "attest/service/ledger_writer.h"
#include "attest/service/sqlite_store.h"

#include "tests/store/store_records.h"

namespace attest::service::test {
namespace {

namespace kinds = ledger::kinds;

// Commits `change`, failing the test when it does not.
void MustCommit(ServiceStore& store, const StoreChange& change) {
  auto committed = store.Commit(change);
  ASSERT_TRUE(committed.ok()) << committed.error().ToString();
}

NodeRecord BareNode(int n, NodeState state) {
  NodeRecord node = MakeNode(n);
  node.state = state;
  node.ek_certificate.reset();
  node.last_attestation.reset();
  node.last_verdict_json.clear();
  node.last_clock.reset();
  node.last_reset_count.reset();
  node.last_restart_count.reset();
  node.boot_cache.reset();
  node.runtime_cache.reset();
  node.reenroll_allowed_until.reset();
  return node;
}

void PopulateStore(ServiceStore& store) {
  NodeRecord pending = BareNode(1, NodeState::kPendingApproval);
  NodeRecord trusted = MakeNode(2);
  NodeRecord untrusted = MakeNode(3);
  untrusted.state = NodeState::kUntrusted;
  NodeRecord revoked = MakeNode(4);
  revoked.state = NodeState::kRevoked;
  for (const NodeRecord& node : {pending, trusted, untrusted, revoked}) {
    MustCommit(store,
               {.node = node,
                .events = {{std::string(kinds::kNodeEnrolled), {{"node_id", node.node_id}}}}});
  }
  // A routine attestation: version 2, other caches.
  auto routine = store.RecordRoutineUpdate(RoutineOf(MustRead(store, NodeId(2)), 1));
  ASSERT_TRUE(routine.ok()) << routine.error().ToString();

  EnrollmentRecord activated = MakeEnrollment(1);
  activated.state = EnrollmentState::kActivated;
  EnrollmentRecord failed = MakeEnrollment(2);
  failed.state = EnrollmentState::kFailed;
  failed.ek_certificate = Bytes{0x30, 0x01};
  MustCommit(store, {.enrollment = activated});
  MustCommit(store, {.enrollment = failed});

  MustCommit(store, {.new_certificates = {
                         MakeCertificate(NodeId(2), "0a01", At(1'790'000'000), At(1'800'000'000)),
                         MakeCertificate(NodeId(2), "0a02", At(1'790'000'010), At(1'800'000'000)),
                         MakeCertificate(NodeId(3), "0b01", At(1'790'000'000), At(1'800'000'000)),
                     }});
  MustCommit(store, {.revoke_certificates_of = NodeId(3),
                     .revoked_at = At(1'790'000'500),
                     .revocation_reason = "untrusted",
                     .events = {MakeEvent(kinds::kCertRevoked, 3)}});

  TokenRecord revoked_token = MakeTokenRecord(2);
  revoked_token.role = Role::kReader;
  revoked_token.revoked_at = At(1'790'000'900);
  MustCommit(store, {.token = MakeTokenRecord(1)});
  MustCommit(store, {.token = revoked_token});
  MustCommit(store, {.policy = MakePolicy(1), .events = {MakeEvent(kinds::kPolicyApplied, 1)}});
  MustCommit(store, {.policy = MakePolicy(2), .events = {MakeEvent(kinds::kPolicyApplied, 2)}});

  // Answered on SQLite; never to be seen on PostgreSQL.
  auto challenge = store.RedeemChallenge(
      NodeId(2), ChallengeNonce(1), std::chrono::system_clock::now() + std::chrono::minutes(5));
  ASSERT_TRUE(challenge.ok()) << challenge.error().ToString();
  ASSERT_EQ(*challenge, ChallengeRedemption::kValid);
}

// Drains into the ledger with a checkpoint twice, then leaves two events
// pending under a drain intent, as a drain that stopped before its append.
void PopulateLedger(const StateLayout& layout, ServiceStore& store, PopulatedState& state) {
  auto ledger = ledger::Ledger::Open(layout.dir + "/ledger.db");
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  auto secret = ReadSecretFile(layout.ledger_key(), 4096);
  ASSERT_TRUE(secret.ok());
  auto signer = ledger::ParseSignerKey(*secret);
  ASSERT_TRUE(signer.ok()) << signer.error().ToString();
  ASSERT_TRUE(DrainLedgerOutbox(store, *ledger).ok());
  ASSERT_TRUE(ledger->SignCheckpoint(*signer).ok());
  MustCommit(store, {.events = {MakeEvent(kinds::kConfigChanged, 1)}});
  ASSERT_TRUE(DrainLedgerOutbox(store, *ledger).ok());
  ASSERT_TRUE(ledger->SignCheckpoint(*signer).ok());
  MustCommit(store, {.events = {MakeEvent(kinds::kNodeApproved, 1)}});
  MustCommit(store, {.events = {MakeEvent(kinds::kNodeRevoked, 4)}});
  auto pending = store.PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  state.ledger_size = ledger->Size().value();
  ASSERT_TRUE(store.RecordLedgerDrainIntent({pending->back().outbox_id, state.ledger_size}).ok());

  state.ledger_key = ledger->checkpoint_key();
  ledger::VerifyReport report;
  ASSERT_TRUE(ledger::VerifyDatabase(*ledger, state.ledger_key, report).ok());
  ASSERT_TRUE(report.ok());
  state.ledger_root = report.root;
}

template <typename T>
T Must(Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  return result.ok() ? std::move(result).value() : T{};
}

void ExpectSameEnrollment(const EnrollmentRecord& a, const EnrollmentRecord& b) {
  EXPECT_EQ(a.enrollment_id, b.enrollment_id);
  EXPECT_EQ(a.node_id, b.node_id);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.ek_public, b.ek_public);
  EXPECT_EQ(a.ek_certificate, b.ek_certificate);
  EXPECT_EQ(a.ak_public, b.ak_public);
  EXPECT_EQ(a.secret_digest, b.secret_digest);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.failed_attempts, b.failed_attempts);
  EXPECT_EQ(a.version, b.version);
}

void ExpectSameCertificates(const std::vector<CertificateRecord>& a,
                            const std::vector<CertificateRecord>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].serial_hex, b[i].serial_hex);
    EXPECT_EQ(a[i].node_id, b[i].node_id);
    EXPECT_EQ(a[i].not_before, b[i].not_before);
    EXPECT_EQ(a[i].not_after, b[i].not_after);
    EXPECT_EQ(a[i].certificate_pem, b[i].certificate_pem);
    EXPECT_EQ(a[i].revoked_at, b[i].revoked_at);
    EXPECT_EQ(a[i].revocation_reason, b[i].revocation_reason);
  }
}

void ExpectSameTokens(const std::vector<TokenRecord>& a, const std::vector<TokenRecord>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].token_id, b[i].token_id);
    EXPECT_EQ(a[i].role, b[i].role);
    EXPECT_EQ(a[i].label, b[i].label);
    EXPECT_EQ(a[i].secret_digest, b[i].secret_digest);
    EXPECT_EQ(a[i].created_at, b[i].created_at);
    EXPECT_EQ(a[i].revoked_at, b[i].revoked_at);
  }
}

}  // namespace

void PopulateDeployment(const StateLayout& layout, PopulatedState& state) {
  auto store = OpenSqliteServiceStore(layout.dir + "/service.db", false);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  ASSERT_NO_FATAL_FAILURE(PopulateStore(**store));
  for (int i = 0; i < 3; ++i) state.last_crl_number = Must((*store)->NextCrlNumber());
  ASSERT_EQ(state.last_crl_number, 3u);
  ASSERT_NO_FATAL_FAILURE(PopulateLedger(layout, **store, state));
  state.enrollment_ids = {MakeEnrollment(1).enrollment_id, MakeEnrollment(2).enrollment_id};
  PopulatedState read = ReadState(**store, state);
  read.enrollment_ids = state.enrollment_ids;
  read.last_crl_number = state.last_crl_number;
  read.ledger_size = state.ledger_size;
  read.ledger_root = state.ledger_root;
  read.ledger_key = state.ledger_key;
  state = std::move(read);
  ASSERT_EQ(state.nodes.size(), 4u);
  ASSERT_EQ(state.revoked.size(), 1u);
  ASSERT_TRUE(state.drain_intent.has_value());
}

PopulatedState ReadState(ServiceStore& store, const PopulatedState& like) {
  PopulatedState state;
  state.nodes = Must(store.ListNodes(std::nullopt, "", 1000));
  state.node_counts = Must(store.CountNodesByState());
  for (const std::string& id : like.enrollment_ids) {
    std::optional<EnrollmentRecord> enrollment = Must(store.GetEnrollment(id));
    EXPECT_TRUE(enrollment.has_value()) << id;
    if (enrollment) state.enrollments.push_back(std::move(*enrollment));
  }
  for (const NodeRecord& node : state.nodes) {
    state.certificates.push_back(Must(store.CertificatesOf(node.node_id)));
  }
  state.revoked = Must(store.RevokedCertificates(At(1'790'000'000)));
  state.tokens = Must(store.ListTokens());
  state.policy = Must(store.CurrentPolicy());
  state.pending = Must(store.PendingLedgerEvents(1000));
  state.drain_intent = Must(store.GetLedgerDrainIntent());
  return state;
}

void ExpectSameState(const PopulatedState& read, const PopulatedState& expected) {
  ASSERT_EQ(read.nodes.size(), expected.nodes.size());
  for (std::size_t i = 0; i < read.nodes.size(); ++i) {
    ExpectSameNode(read.nodes[i], expected.nodes[i]);
    EXPECT_EQ(read.nodes[i].version, expected.nodes[i].version) << read.nodes[i].node_id;
  }
  EXPECT_EQ(read.node_counts, expected.node_counts);
  ASSERT_EQ(read.enrollments.size(), expected.enrollments.size());
  for (std::size_t i = 0; i < read.enrollments.size(); ++i) {
    ExpectSameEnrollment(read.enrollments[i], expected.enrollments[i]);
  }
  ASSERT_EQ(read.certificates.size(), expected.certificates.size());
  for (std::size_t i = 0; i < read.certificates.size(); ++i) {
    ExpectSameCertificates(read.certificates[i], expected.certificates[i]);
  }
  ExpectSameCertificates(read.revoked, expected.revoked);
  ExpectSameTokens(read.tokens, expected.tokens);
  ASSERT_EQ(read.policy.has_value(), expected.policy.has_value());
  if (read.policy) {
    EXPECT_EQ(read.policy->serial, expected.policy->serial);
    EXPECT_EQ(read.policy->document, expected.policy->document);
    EXPECT_EQ(read.policy->envelope, expected.policy->envelope);
    EXPECT_EQ(read.policy->applied_at, expected.policy->applied_at);
  }
  ASSERT_EQ(read.pending.size(), expected.pending.size());
  for (std::size_t i = 0; i < read.pending.size(); ++i) {
    EXPECT_EQ(read.pending[i].outbox_id, expected.pending[i].outbox_id);
    EXPECT_EQ(read.pending[i].event.kind, expected.pending[i].event.kind);
    EXPECT_EQ(read.pending[i].event.payload, expected.pending[i].event.payload);
    EXPECT_EQ(read.pending[i].recorded_at, expected.pending[i].recorded_at);
  }
  ASSERT_EQ(read.drain_intent.has_value(), expected.drain_intent.has_value());
  if (read.drain_intent) {
    EXPECT_EQ(read.drain_intent->last_outbox_id, expected.drain_intent->last_outbox_id);
    EXPECT_EQ(read.drain_intent->ledger_size_before, expected.drain_intent->ledger_size_before);
  }
}

}  // namespace attest::service::test
