// What the `verifier` CLI does to a deployment's state directory, stopped
// or running: `verifier init` makes it; `token create|revoke`, `node
// approve|allow-reenroll` change its store, each change and its ledger
// entry in one commit, then move the entry into the ledger.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "attest/clock.h"
#include "attest/error.h"
#include "attest/service/store.h"
#include "attest/service/tokens.h"

namespace attest::service {

struct InitOptions {
  std::string state_dir;
  // An operator's intermediate CA: its chain (CA first) and key, copied in.
  // Absent: a new self-signed CA.
  std::optional<std::string> ca_chain_path;
  std::optional<std::string> ca_key_path;
  // SANs of the server's TLS certificate; empty: 127.0.0.1, ::1, localhost.
  std::vector<std::string> server_names;
  std::string ledger_origin;  // "" for "<hostname>/attest-verifier"
};

// Makes the state directory (0700; refuses one that exists and is not
// empty): service.db, ledger.db + ledger.key + ledger.pub, the CA, tls.pem +
// tls.key, webhook.key, and one admin token, which it returns (the caller
// shows it once; it is stored only hashed).
Result<std::string> InitStateDirectory(const InitOptions& options, const Clock& clock);

// The token (shown once) of a new API token; ledger token.created.
Result<NewToken> CreateToken(const std::string& state_dir, Role role, std::string_view label,
                             const Clock& clock);
// Ledger token.revoked. kNotFound for an unknown id.
Status RevokeToken(const std::string& state_dir, std::string_view token_id, const Clock& clock);
// pending_approval (or revoked) -> enrolled; ledger node.approved.
// kNotFound, or kInvalidArgument for a node in another state.
Status ApproveNode(const std::string& state_dir, std::string_view node_id, const Clock& clock);
// Lets the node's EK enroll with a new AK until now + `window`; ledger
// node.reenroll_allowed.
Status AllowReenroll(const std::string& state_dir, std::string_view node_id,
                     std::chrono::seconds window, const Clock& clock);

}  // namespace attest::service
