// Incremental evidence in the service (docs/protocol.md §6): what the
// challenge tells a node of the caches it may lean on, which evidence the
// node must resend in full, and the runtime cursor kept in the node record.
#pragma once

#include <memory>

#include "attest/json.h"
#include "attest/service/store.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/verify.h"

#include "context.h"

namespace attest::service::api {

// Adds `runtime_log_cursor` {entries, reset_count, restart_count} to a
// challenge's body when the node record holds a runtime cache.
void AddRuntimeCursor(Json& challenge, const NodeRecord& node);

// The parsed runtime cache of a node record (cached by node id and JSON
// text), or null when there is none or it does not read back: a doubt, so
// the node resends its runtime log in full.
std::shared_ptr<const verifier::VerifiedRuntimeState> NodeRuntimeState(Context& context,
                                                                       const NodeRecord& node);

// True when the verdict asks the node to resend what it left out (its boot
// log: BOOT_LOG_REQUIRED; the runtime log before its cursor:
// RUNTIME_LOG_REQUIRED) and every other failure is one the omission may
// explain. Such a verdict is answered, never recorded: a real failure
// shows when the node resends in full.
bool ResendRequired(const verifier::Evidence& evidence, const verifier::Verdict& verdict);

// After a trusted verdict: the node's runtime cache becomes the verdict's
// verified runtime state, or none when the verdict has none (over the
// cache's bounds, no runtime PCR start).
void KeepRuntimeCache(NodeRecord& node, const verifier::Verdict& verdict);

}  // namespace attest::service::api
