// What attestd keeps in its state directory across restarts (kill -9
// included): the TPM identity it enrolled with (identity.json) and the
// outcome of its last attestation (status.json, what `attestd status` shows).
// Both files are replaced atomically and are 0600 in a 0700 directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/attestd/tpm.h"
#include "attest/error.h"
#include "attest/file.h"

namespace attest::attestd {

struct NodeIdentity {
  EkAlgorithm ek_algorithm = EkAlgorithm::kRsa;
  KeyBlob ak;                       // sealed to this TPM: useless elsewhere
  std::string node_id;              // from the EK (docs/protocol.md §2)
  std::string enrollment_id;        // of the enrollment last started
  bool enrolled = false;            // the verifier accepted the activation
  std::optional<KeyBlob> node_key;  // the TPM-resident TLS key, once made
};

// nullopt when the state directory holds no identity yet; kCorrupt naming
// the member for a file that does not parse.
Result<std::optional<NodeIdentity>> LoadIdentity(const std::string& state_dir);
Status SaveIdentity(const std::string& state_dir, const NodeIdentity& identity);

struct ReasonSummary {
  std::string code;
  std::string detail;
};

// The last attestation as the node saw it.
struct AttestationStatus {
  std::int64_t time = 0;  // unix seconds of the last attempt
  // "trusted" | "untrusted" | "pending_approval" | "error": the verifier's
  // state for the node, or "error" when the attempt did not reach a verdict.
  std::string state;
  std::vector<ReasonSummary> reasons;
  std::string problem;                     // what went wrong in the attempt, "" when nothing
  std::int64_t certificate_not_after = 0;  // 0: no certificate
  std::int64_t last_trusted = 0;
  std::uint64_t runtime_entries = 0;
};

Result<std::optional<AttestationStatus>> LoadStatus(const std::string& state_dir);
Status SaveStatus(const std::string& state_dir, const AttestationStatus& status);

// Creates `state_dir` 0700 if missing; refuses one others can write.
Status PrepareStateDirectory(const std::string& state_dir);

// PrepareStateDirectory, then an exclusive lock on its "lock" file, held
// while the descriptor lives: a second `attestd run` or an `attestd
// evidence` beside a running daemon would measure into the same PCR and
// log. kBusy when another process holds it.
Result<FileDescriptor> LockStateDirectory(const std::string& state_dir);

}  // namespace attest::attestd
