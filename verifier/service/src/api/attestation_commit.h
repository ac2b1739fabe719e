// How an attestation's outcome reaches the store: a routine one (trusted
// and still trusted, nothing but the node's last_* fields and boot cache
// changed) as the store's RecordRoutineUpdate, anything else as a Commit.
#pragma once

#include "context.h"

namespace attest::service::api {

// `change` as the attestation built it; `previous` the node's state when it
// was read. Routine only when the node stays trusted and the change carries
// no event, certificate, revocation or other record.
Result<CommitResult> CommitAttestation(Context& context, const StoreChange& change,
                                       NodeState previous);

}  // namespace attest::service::api
