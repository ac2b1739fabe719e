// A routine attestation is most of the service's writes in steady state;
// recording it without an fsync of its own is what lets the service go past
// one fsync per attestation (store.h, RecordRoutineUpdate: what a power
// loss may take and why that is acceptable). Anything that changes what
// the verifier vouches for stays a durable Commit.
#include "attestation_commit.h"

namespace attest::service::api {
namespace {

bool IsRoutine(const StoreChange& change, NodeState previous) {
  return change.node && previous == NodeState::kTrusted &&
         change.node->state == NodeState::kTrusted && !change.enrollment &&
         change.new_certificates.empty() && !change.revoke_certificates_of && !change.token &&
         !change.policy && change.events.empty();
}

}  // namespace

Result<CommitResult> CommitAttestation(Context& context, const StoreChange& change,
                                       NodeState previous) {
  if (!IsRoutine(change, previous)) return CommitChange(context, change);
  // No state changed, so the node gauges (CommitChange recounts them) stand.
  ATTEST_RETURN_IF_ERROR(context.store->RecordRoutineUpdate(*change.node));
  return CommitResult{};
}

}  // namespace attest::service::api
