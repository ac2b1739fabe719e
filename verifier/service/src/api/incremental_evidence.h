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
// Not when the cache does not read back or is of another runtime PCR than
// the policy's `runtime_pcr`.
void AddRuntimeCursor(Json& challenge, Context& context, const NodeRecord& node,
                      std::uint32_t runtime_pcr);

// The parsed runtime cache of a node record (cached by node id and JSON
// text), or null when there is none or it does not read back: a doubt, so
// the node resends its runtime log in full.
std::shared_ptr<const verifier::VerifiedRuntimeState> NodeRuntimeState(Context& context,
                                                                       const NodeRecord& node);

// Evidence that left out its boot log where no cached one could stand in
// (BOOT_LOG_REQUIRED), or sent its runtime log from a cursor the verifier
// does not hold (RUNTIME_LOG_REQUIRED), proves nothing about what its quote
// shows: a root attacker could omit exactly what would fail. The verdict
// puts those reasons first and drops the failures only the missing boot log
// caused (boot rules with no facts to read, a runtime PCR replayed without
// its firmware start); recorded as a failure, it tells the node to resend
// in full. False when the verdict is not of that kind.
bool AskForFullEvidence(const verifier::Evidence& evidence, verifier::Verdict& verdict);

// After a trusted verdict: the node's runtime cache becomes the verdict's
// verified runtime state, or none when the verdict has none (over the
// cache's bounds, no runtime PCR start).
void KeepRuntimeCache(NodeRecord& node, const verifier::Verdict& verdict);

}  // namespace attest::service::api
