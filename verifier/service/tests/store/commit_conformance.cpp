// Conformance (store_conformance.h): Commit is one transaction: every check that fails leaves
// nothing of the change behind, and its parts (node versions, policy serials, certificate
// revocation, outbox events) behave as store.h says.
#include "attest/ledger/kinds.h"

#include "tests/store/store_conformance.h"

namespace attest::service::test {
namespace {

namespace kinds = ledger::kinds;

std::size_t PendingCount(ServiceStore& store) {
  auto pending = store.PendingLedgerEvents(1000);
  EXPECT_TRUE(pending.ok()) << pending.error().ToString();
  return pending.ok() ? pending->size() : 0;
}

TEST_P(ServiceStoreConformance, AFailingPolicySerialLeavesTheWholeChangeUnwritten) {
  MustCommit(StoreChange{.policy = MakePolicy(5), .events = {MakeEvent(kinds::kPolicyApplied, 0)}});
  ASSERT_EQ(PendingCount(*store_), 1u);

  StoreChange change;
  change.node = MakeNode(1);
  change.enrollment = MakeEnrollment(1);
  change.token = MakeTokenRecord(1);
  change.policy = MakePolicy(3);
  change.events = {MakeEvent(kinds::kNodeEnrolled, 1), MakeEvent(kinds::kPolicyApplied, 1)};
  auto result = store_->Commit(change);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kVerificationFailed);
  EXPECT_NE(result.error().message.find("policy serial 3"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("serial 5"), std::string::npos) << result.error().message;

  auto node = store_->GetNode(NodeId(1));
  ASSERT_TRUE(node.ok());
  EXPECT_FALSE(node->has_value());
  auto enrollment = store_->GetEnrollment(MakeEnrollment(1).enrollment_id);
  ASSERT_TRUE(enrollment.ok());
  EXPECT_FALSE(enrollment->has_value());
  auto token = store_->GetToken(MakeTokenRecord(1).token_id);
  ASSERT_TRUE(token.ok());
  EXPECT_FALSE(token->has_value());
  EXPECT_EQ(PendingCount(*store_), 1u) << "no event of the failed change is queued";
  auto policy = store_->CurrentPolicy();
  ASSERT_TRUE(policy.ok() && policy->has_value());
  EXPECT_EQ((*policy)->serial, 5u);
}

TEST_P(ServiceStoreConformance, APolicySerialMustExceedTheCurrentOne) {
  MustCommit(StoreChange{.policy = MakePolicy(0)});
  auto same = store_->Commit(StoreChange{.policy = MakePolicy(0)});
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().code, ErrorCode::kVerificationFailed);
  MustCommit(StoreChange{.policy = MakePolicy(1)});
  MustCommit(StoreChange{.policy = MakePolicy(10)});
  auto older = store_->Commit(StoreChange{.policy = MakePolicy(9)});
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.error().code, ErrorCode::kVerificationFailed);
  auto policy = store_->CurrentPolicy();
  ASSERT_TRUE(policy.ok() && policy->has_value());
  EXPECT_EQ((*policy)->serial, 10u);
}

TEST_P(ServiceStoreConformance, AStaleNodeVersionIsBusyAndChangesNothing) {
  NodeRecord node = MakeNode(1);
  MustCommit(StoreChange{.node = node});  // version 0 -> 1

  // Two writers read version 1; the first wins, the second is refused.
  NodeRecord first = node;
  first.version = 1;
  first.state = NodeState::kUntrusted;
  NodeRecord second = node;
  second.version = 1;
  second.hostname = "lost-update";
  MustCommit(StoreChange{.node = first, .events = {MakeEvent(kinds::kNodeUntrusted, 1)}});
  auto conflict =
      store_->Commit(StoreChange{.node = second, .events = {MakeEvent(kinds::kNodeTrusted, 1)}});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kBusy);
  EXPECT_NE(conflict.error().message.find("version 1, stored 2"), std::string::npos)
      << conflict.error().message;

  auto read = store_->GetNode(node.node_id);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->version, 2);
  EXPECT_EQ((*read)->state, NodeState::kUntrusted);
  EXPECT_EQ((*read)->hostname, node.hostname);
  EXPECT_EQ(PendingCount(*store_), 1u);

  // A "new" node (version 0) that exists already is a conflict too, and so
  // is a version for a node that does not exist.
  auto again = store_->Commit(StoreChange{.node = node});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kBusy);
  NodeRecord ghost = MakeNode(2);
  ghost.version = 3;
  auto missing = store_->Commit(StoreChange{.node = ghost});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kBusy);
}

TEST_P(ServiceStoreConformance, RevocationReturnsTheSerialsAndTheCrlListsOnlyUnexpiredOnes) {
  const TimePoint now = At(1'790'010'000);
  const std::string node_id = NodeId(1);
  StoreChange issue;
  issue.node = MakeNode(1);
  issue.new_certificates = {
      MakeCertificate(node_id, "0a", now - std::chrono::hours(3), now - std::chrono::hours(2)),
      MakeCertificate(node_id, "0b", now - std::chrono::minutes(10),
                      now + std::chrono::minutes(50)),
      MakeCertificate(node_id, "0c", now - std::chrono::minutes(5), now + std::chrono::minutes(55)),
  };
  MustCommit(issue);
  NodeRecord other = MakeNode(2);
  MustCommit(StoreChange{.node = other,
                         .new_certificates = {MakeCertificate(other.node_id, "0d", now,
                                                              now + std::chrono::hours(1))}});

  // Revoke node 1's certificates and issue a new one in the same change: the
  // new one is not revoked.
  StoreChange revoke;
  revoke.revoke_certificates_of = node_id;
  revoke.revoked_at = now;
  revoke.revocation_reason = "attestation failed";
  revoke.new_certificates = {MakeCertificate(node_id, "0e", now, now + std::chrono::hours(1))};
  revoke.events = {MakeEvent(kinds::kCertRevoked, 1)};
  CommitResult result = MustCommit(revoke);
  EXPECT_EQ(result.revoked_serials, (std::vector<std::string>{"0a", "0b", "0c"}));

  auto crl = store_->RevokedCertificates(now);
  ASSERT_TRUE(crl.ok()) << crl.error().ToString();
  std::vector<std::string> listed;
  for (const CertificateRecord& certificate : *crl) {
    listed.push_back(certificate.serial_hex);
    EXPECT_EQ(certificate.revoked_at, now);
    EXPECT_EQ(certificate.revocation_reason, "attestation failed");
  }
  EXPECT_EQ(listed, (std::vector<std::string>{"0b", "0c"})) << "0a had expired";
  // An hour later both have expired too.
  auto later = store_->RevokedCertificates(now + std::chrono::hours(1));
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());

  auto certificates = store_->CertificatesOf(node_id);
  ASSERT_TRUE(certificates.ok());
  ASSERT_EQ(certificates->size(), 4u);
  EXPECT_EQ(certificates->back().serial_hex, "0e");
  EXPECT_FALSE(certificates->back().revoked_at.has_value());

  // Only the one unrevoked certificate is revoked the second time; nothing the third.
  result = MustCommit(StoreChange{.revoke_certificates_of = node_id, .revoked_at = now});
  EXPECT_EQ(result.revoked_serials, std::vector<std::string>{"0e"});
  result = MustCommit(StoreChange{.revoke_certificates_of = node_id, .revoked_at = now});
  EXPECT_TRUE(result.revoked_serials.empty());
  auto others = store_->CertificatesOf(other.node_id);
  ASSERT_TRUE(others.ok());
  ASSERT_EQ(others->size(), 1u);
  EXPECT_FALSE(others->front().revoked_at.has_value()) << "another node's certificate";
}

TEST_P(ServiceStoreConformance, ACertificateForAnUnknownNodeOrADuplicateSerialIsRefused) {
  const TimePoint now = At(1'790'010'000);
  auto orphan = store_->Commit(StoreChange{
      .new_certificates = {MakeCertificate(NodeId(7), "01", now, now + std::chrono::hours(1))}});
  ASSERT_FALSE(orphan.ok()) << "certificates reference nodes";

  MustCommit(StoreChange{
      .node = MakeNode(1),
      .new_certificates = {MakeCertificate(NodeId(1), "01", now, now + std::chrono::hours(1))}});
  NodeRecord updated = MakeNode(1);
  updated.version = 1;
  updated.hostname = "changed";
  auto duplicate = store_->Commit(StoreChange{
      .node = updated,
      .new_certificates = {MakeCertificate(NodeId(1), "01", now, now + std::chrono::hours(1))}});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kAlreadyExists);
  auto read = store_->GetNode(NodeId(1));
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->hostname, MakeNode(1).hostname) << "the node update rolled back";
}

TEST_P(ServiceStoreConformance, EventsTheLedgerWouldRefuseFailTheirCommit) {
  auto unknown_kind = store_->Commit(
      StoreChange{.node = MakeNode(1), .events = {LedgerEvent{"node.exploded", Json::object()}}});
  ASSERT_FALSE(unknown_kind.ok());
  EXPECT_EQ(unknown_kind.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown_kind.error().message.find("node.exploded"), std::string::npos);

  auto not_object = store_->Commit(
      StoreChange{.events = {LedgerEvent{std::string(kinds::kNodeTrusted), Json::array({1})}}});
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().code, ErrorCode::kInvalidArgument);

  auto reserved = store_->Commit(StoreChange{
      .events = {LedgerEvent{std::string(kinds::kNodeTrusted), Json{{"outbox_id", 1}}}}});
  ASSERT_FALSE(reserved.ok());
  EXPECT_NE(reserved.error().message.find("outbox_id"), std::string::npos);

  auto node = store_->GetNode(NodeId(1));
  ASSERT_TRUE(node.ok());
  EXPECT_FALSE(node->has_value());
  EXPECT_EQ(PendingCount(*store_), 0u);
}

TEST_P(ServiceStoreConformance, EventsAreQueuedInOrderWithIncreasingIds) {
  MustCommit(StoreChange{
      .events = {MakeEvent(kinds::kTokenCreated, 1), MakeEvent(kinds::kNodeEnrolled, 2)}});
  MustCommit(StoreChange{.events = {MakeEvent(kinds::kNodeApproved, 3)}});
  auto pending = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[0].event.kind, kinds::kTokenCreated);
  EXPECT_EQ((*pending)[2].event.kind, kinds::kNodeApproved);
  EXPECT_EQ((*pending)[2].event.payload, MakeEvent(kinds::kNodeApproved, 3).payload);
  EXPECT_LT((*pending)[0].outbox_id, (*pending)[1].outbox_id);
  EXPECT_LT((*pending)[1].outbox_id, (*pending)[2].outbox_id);
  auto limited = store_->PendingLedgerEvents(2);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 2u);

  ASSERT_TRUE(store_->MarkLedgerEventsWritten((*pending)[1].outbox_id).ok());
  auto rest = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].outbox_id, (*pending)[2].outbox_id);

  // Ids are never reused, even after the outbox empties and the store reopens.
  ASSERT_TRUE(store_->MarkLedgerEventsWritten((*pending)[2].outbox_id).ok());
  store_ = Connect();
  MustCommit(StoreChange{.events = {MakeEvent(kinds::kNodeRevoked, 4)}});
  auto next = store_->PendingLedgerEvents(10);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_GT((*next)[0].outbox_id, (*pending)[2].outbox_id);
}

}  // namespace
}  // namespace attest::service::test
