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
  // As ServiceConfig::storage: "" for SQLite files in state_dir. A
  // PostgreSQL database must exist and hold no verifier ledger yet.
  std::string storage;
};

// A deployment the CLI changes: its state directory, and its storage as
// ServiceConfig::storage says ("" for SQLite files in the state directory).
struct DeploymentLocation {
  // A SQLite deployment is its state directory alone.
  DeploymentLocation(std::string dir,  // NOLINT(google-explicit-constructor)
                     std::string storage_setting = "")
      : state_dir(std::move(dir)), storage(std::move(storage_setting)) {}
  std::string state_dir;
  std::string storage;
};

// Makes the state directory (0700; refuses one that exists and is not
// empty): service.db, ledger.db + ledger.key + ledger.pub, the CA, tls.pem +
// tls.key, webhook.key, challenge.key, and one admin token, which it returns (the caller
// shows it once; it is stored only hashed). With a PostgreSQL storage the
// two databases are schemas in it instead of files (refused, before the
// directory is written, when it holds a verifier's ledger already).
Result<std::string> InitStateDirectory(const InitOptions& options, const Clock& clock);

// Makes state_dir/challenge.key unless it exists (a deployment `verifier
// init` made before the file did); true when it made it. `verifier migrate`
// calls it: on PostgreSQL, every verifier needs the same key.
Result<bool> EnsureChallengeKey(const std::string& state_dir);

// The token (shown once) of a new API token; ledger token.created.
Result<NewToken> CreateToken(const DeploymentLocation& where, Role role, std::string_view label,
                             const Clock& clock);
// Ledger token.revoked. kNotFound for an unknown id.
Status RevokeToken(const DeploymentLocation& where, std::string_view token_id, const Clock& clock);
// pending_approval (or revoked) -> enrolled; ledger node.approved.
// kNotFound, or kInvalidArgument for a node in another state.
Status ApproveNode(const DeploymentLocation& where, std::string_view node_id, const Clock& clock);
// Lets the node's EK enroll with a new AK until now + `window`; ledger
// node.reenroll_allowed.
Status AllowReenroll(const DeploymentLocation& where, std::string_view node_id,
                     std::chrono::seconds window, const Clock& clock);

}  // namespace attest::service
