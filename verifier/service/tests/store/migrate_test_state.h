// A populated SQLite deployment for the migrate tests: nodes in several
// states, enrollments, certificates (some revoked), tokens, two policies,
// the CRL number, a ledger with two checkpoints and pending outbox events
// under a drain intent; and everything a store answers about it, to compare
// the PostgreSQL copy with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attest/ledger/merkle.h"
#include "attest/ledger/note.h"
#include "attest/service/config.h"
#include "attest/service/store.h"

namespace attest::service::test {

struct PopulatedState {
  // What the store answers (ReadState).
  std::vector<NodeRecord> nodes;  // ListNodes, every node
  std::vector<std::pair<NodeState, std::uint64_t>> node_counts;
  std::vector<EnrollmentRecord> enrollments;
  std::vector<std::vector<CertificateRecord>> certificates;  // CertificatesOf, per node listed
  std::vector<CertificateRecord> revoked;                    // RevokedCertificates
  std::vector<TokenRecord> tokens;
  std::optional<PolicyRecord> policy;
  std::vector<PendingLedgerEvent> pending;
  std::optional<LedgerDrainIntent> drain_intent;
  // Of the deployment (PopulateDeployment).
  std::vector<std::string> enrollment_ids;
  std::uint64_t last_crl_number = 0;
  std::uint64_t ledger_size = 0;
  ledger::Hash ledger_root{};
  ledger::NoteVerifier ledger_key;
};

// Populates the deployment `verifier init` made at `layout` and describes
// it; its store and ledger are closed again when it returns.
void PopulateDeployment(const StateLayout& layout, PopulatedState& state);
inline PopulatedState PopulateDeployment(const StateLayout& layout) {
  PopulatedState state;
  PopulateDeployment(layout, state);
  return state;
}

// What `store` answers: every node and its certificates, the enrollments
// `like` names, and the rest.
PopulatedState ReadState(ServiceStore& store, const PopulatedState& like);

// Every record agrees, field by field, versions too (gtest expectations).
void ExpectSameState(const PopulatedState& read, const PopulatedState& expected);

}  // namespace attest::service::test
