// The verifier service's state (nodes, enrollments, certificates, tokens,
// policies) behind one interface: SQLite (sqlite_store.h) for one verifier,
// PostgreSQL (postgres_store.h) for several sharing one database. Every change is one Commit: the
// records it writes and the ledger events it causes land together or not at all (the events wait in
// an outbox that ledger_writer.h drains into the ledger, also after a crash).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/error.h"
#include "attest/json.h"

namespace attest::service {

enum class NodeState {
  kPendingApproval,  // activated; waits for `verifier node approve`
  kEnrolled,         // activated (and approved); not attested yet
  kTrusted,          // its last evidence was trusted
  kUntrusted,        // its last evidence failed; certificates revoked
  kRevoked,          // an operator revoked it; attestations refused until re-approved
};
std::string_view NodeStateName(NodeState state);  // "pending_approval", "enrolled", ...
std::optional<NodeState> ParseNodeState(std::string_view name);

// What the verifier keeps of a node's last verified boot (incremental
// evidence, docs/protocol.md §6): valid only for the same resetCount and
// restartCount.
struct BootCache {
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  Bytes boot_log_digest;            // SHA-256 of the verified boot log bytes
  std::string verified_state_json;  // what the service needs to re-decide without the log
};

// What the verifier keeps of a node's last verified runtime log (the
// runtime cursor, docs/protocol.md §6): valid only for the same resetCount
// and restartCount, dropped with any failure, re-enrollment or revocation.
struct RuntimeCache {
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  std::uint64_t entries = 0;        // the cursor: how many entries are verified
  std::string verified_state_json;  // verifier::VerifiedRuntimeStateToJson: what re-judges them
};

struct NodeRecord {
  std::string node_id;  // 64 lowercase hex
  std::string hostname;
  Bytes ek_public;                      // TPM2B_PUBLIC
  std::optional<Bytes> ek_certificate;  // DER; absent for an allowlisted TPM
  Bytes ak_public;                      // TPM2B_PUBLIC
  NodeState state = NodeState::kEnrolled;
  TimePoint enrolled_at;
  std::optional<TimePoint> last_attestation;
  std::string last_verdict_json;  // VerdictToJson of the last evidence, "" before any
  // The TPM clock of the last trusted quote (CLOCK_ROLLBACK, REBOOTED).
  std::optional<std::uint64_t> last_clock;
  std::optional<std::uint32_t> last_reset_count;
  std::optional<std::uint32_t> last_restart_count;
  std::optional<BootCache> boot_cache;
  std::optional<RuntimeCache> runtime_cache;
  // Set by `verifier node allow-reenroll`: until then an enrollment of this
  // EK with another AK is refused.
  std::optional<TimePoint> reenroll_allowed_until;
  // Optimistic concurrency: Commit refuses (kBusy) a node whose version is
  // not the stored one, and stores version + 1. 0 for a new node.
  std::int64_t version = 0;
  // Which write of the row this record was read from, where the store can
  // tell (PostgreSQL: the row's xmin); 0 where it cannot, and for a new
  // record. Writes require it along with the version, so a version written
  // again after a commit was lost (a crash, a failover to a standby that
  // lacked it) is not taken for the one read.
  std::int64_t row_token = 0;
};

// A trusted node's trust facts alone (ListTrustedNodes): what the trust
// deadlines need, without the row's caches (a few KB per node).
struct TrustedNodeTime {
  std::string node_id;
  TimePoint last_attested;  // last_attestation, or enrolled_at before any
  std::int64_t version = 0;
};

enum class EnrollmentState { kPending, kActivated, kFailed };

struct EnrollmentRecord {
  std::string enrollment_id;  // 32 lowercase hex (16 random bytes)
  std::string node_id;
  std::string hostname;
  Bytes ek_public;
  std::optional<Bytes> ek_certificate;
  Bytes ak_public;
  Bytes secret_digest;  // SHA-256 of the credential secret; the secret is never stored
  EnrollmentState state = EnrollmentState::kPending;
  TimePoint created_at;
  TimePoint expires_at;
  std::uint32_t failed_attempts = 0;
  // Compare-and-set, as NodeRecord::version: Commit refuses (kBusy) an
  // enrollment whose version is not the stored one (0: not stored yet), so
  // two activations racing cannot overwrite each other's outcome.
  std::int64_t version = 0;
};

struct CertificateRecord {
  std::string serial_hex;
  std::string node_id;
  TimePoint not_before;
  TimePoint not_after;
  std::string certificate_pem;
  std::optional<TimePoint> revoked_at;
  std::string revocation_reason;  // "" while valid
};

enum class Role { kReader, kOperator, kAdmin };
std::string_view RoleName(Role role);  // "reader", "operator", "admin"
std::optional<Role> ParseRole(std::string_view name);

struct TokenRecord {
  std::string token_id;  // the public half of the token (tokens.h)
  Role role = Role::kReader;
  std::string label;
  Bytes secret_digest;  // SHA-256 of the secret half
  TimePoint created_at;
  std::optional<TimePoint> revoked_at;
};

struct PolicyRecord {
  std::uint64_t serial = 0;  // must increase: no rollback to an older policy
  std::string document;      // the policy JSON as signed
  std::string envelope;      // the signer envelope over it ("" for the initial file policy)
  TimePoint applied_at;
};

// A ledger entry a change causes (ledger/kinds.h kinds).
struct LedgerEvent {
  std::string kind;
  Json payload;
};

struct PendingLedgerEvent {
  std::int64_t outbox_id = 0;
  LedgerEvent event;
  TimePoint recorded_at;
};

// One atomic change. Absent members are left alone. Every member has an
// initializer, so designated initializers may name only what they change.
struct StoreChange {
  std::optional<NodeRecord> node = {};              // insert or update (version checked)
  std::optional<EnrollmentRecord> enrollment = {};  // insert or update (version checked)
  // Inserted after the revocation below, so they are never revoked by it.
  std::vector<CertificateRecord> new_certificates = {};
  // Revoke every unrevoked certificate of this node at `revoked_at`.
  std::optional<std::string> revoke_certificates_of = {};
  TimePoint revoked_at = {};
  std::string revocation_reason = {};
  std::optional<TokenRecord> token = {};    // insert or replace
  std::optional<PolicyRecord> policy = {};  // insert; kVerificationFailed unless serial > current
  std::vector<LedgerEvent> events = {};     // queued in the same transaction
};

// A ledger drain under way: the batch up to `last_outbox_id` goes into the
// ledger at positions after `ledger_size_before`. Recorded before the
// append; a record found at the next drain means the last one stopped
// between its append and its mark.
struct LedgerDrainIntent {
  std::int64_t last_outbox_id = 0;
  std::uint64_t ledger_size_before = 0;
};

// Held while it lives: this holder is the one drainer of the store's ledger
// outbox, across threads, processes and machines (ledger_writer.h).
class LedgerDrainLock {
 public:
  virtual ~LedgerDrainLock() = default;
  // An error when the lock may have been lost meanwhile (PostgreSQL: the
  // session holding it ended, so another drainer may hold it now): the
  // drainer stops before its next write.
  virtual Status CheckHeld() = 0;
};

struct CommitResult {
  std::vector<std::string> revoked_serials;  // by revoke_certificates_of
};

// What redeeming a challenge found (RedeemChallenge).
enum class ChallengeRedemption {
  kValid,    // unexpired, never redeemed: now redeemed
  kExpired,  // past its expiry by the database's clock (not recorded)
  kReused,   // redeemed before
};

// How much of the most recent routine updates a power loss may take
// (RecordRoutineUpdate): the verifier then knows each node as of an earlier
// trusted attestation, which it also accepted.
inline constexpr std::chrono::milliseconds kRoutineDurabilityWindow{10};

class ServiceStore {
 public:
  virtual ~ServiceStore() = default;

  // Durable when it returns: it survives a power loss.
  virtual Result<CommitResult> Commit(const StoreChange& change) = 0;

  virtual Result<std::optional<NodeRecord>> GetNode(std::string_view node_id) = 0;
  // The node as this store read it for a challenge at `version` with
  // `row_token` (NodeRecord::row_token), when it still holds that read;
  // else as GetNode reads it now, which the caller compares with the two.
  // For the evidence answering that challenge: it is verified against the
  // row the challenge told the node about, and its commit, guarded by that
  // version, refuses any change since. A store whose reads are local may
  // always read.
  virtual Result<std::optional<NodeRecord>> GetNodeAsRead(std::string_view node_id,
                                                          std::int64_t version,
                                                          std::int64_t row_token) = 0;
  // How many other verifier processes serve the same database: a PostgreSQL
  // store announces this one and looks for the others (solo mode,
  // postgres_store.h). `verifier serve` calls it at start and every second.
  // A store only one process opens has nothing to look for.
  virtual Result<std::size_t> LookForOtherVerifiers() { return std::size_t{0}; }
  // The node for a challenge to mint against: as GetNode, except that a
  // store whose reads cross the network may answer with the row it last
  // read or wrote while it has seen no other writer (PostgreSQL's solo
  // mode, postgres_store.h). Only ever an earlier state of the row: the
  // answer's commit, guarded by the version, refuses it if the row changed.
  virtual Result<std::optional<NodeRecord>> GetNodeForChallenge(std::string_view node_id) = 0;
  // Ordered by node_id, after `after_node_id` (paging), at most `limit`.
  virtual Result<std::vector<NodeRecord>> ListNodes(std::optional<NodeState> state,
                                                    std::string_view after_node_id,
                                                    std::size_t limit) = 0;
  virtual Result<std::vector<std::pair<NodeState, std::uint64_t>>> CountNodesByState() = 0;
  // The trusted nodes as ListNodes(kTrusted, ...) pages them, but only their
  // trust facts: what each verifier re-reads every few seconds.
  virtual Result<std::vector<TrustedNodeTime>> ListTrustedNodes(std::string_view after_node_id,
                                                                std::size_t limit) = 0;

  virtual Result<std::optional<EnrollmentRecord>> GetEnrollment(std::string_view enrollment_id) = 0;

  virtual Result<std::vector<CertificateRecord>> CertificatesOf(std::string_view node_id) = 0;
  // Revoked certificates not yet expired at `now`: what the CRL lists.
  virtual Result<std::vector<CertificateRecord>> RevokedCertificates(TimePoint now) = 0;
  // Increments and returns the CRL number (starts at 1), durably.
  virtual Result<std::uint64_t> NextCrlNumber() = 0;

  virtual Result<std::optional<TokenRecord>> GetToken(std::string_view token_id) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens() = 0;

  virtual Result<std::optional<PolicyRecord>> CurrentPolicy() = 0;

  // The ledger outbox, oldest first.
  virtual Result<std::vector<PendingLedgerEvent>> PendingLedgerEvents(std::size_t limit) = 0;
  // Removes the events up to and including `outbox_id`, and the drain
  // intent if it covers no later event (a late mark never clears another
  // drainer's newer intent), in one transaction.
  virtual Status MarkLedgerEventsWritten(std::int64_t outbox_id) = 0;
  // The drain intent recorded and not yet cleared by a mark, if any.
  virtual Result<std::optional<LedgerDrainIntent>> GetLedgerDrainIntent() = 0;
  virtual Status RecordLedgerDrainIntent(const LedgerDrainIntent& intent) = 0;
  // Takes the outbox's drain lock. SQLite: waits for an flock on
  // ledger-drain.lock beside the database file; PostgreSQL: a session
  // advisory lock on a connection of its own, or null at once when another
  // session holds it (that drainer empties the outbox; a drain that found
  // it held leaves its events to it, or to the next periodic drain).
  virtual Result<std::unique_ptr<LedgerDrainLock>> LockLedgerDrain() = 0;

  // The one addition for throughput (issue 12 §6), kept last: a node's routine
  // attestation, where nothing but its last_attestation, last_verdict_json,
  // last quote clock, boot cache and runtime cache change. Only those fields of `node` are
  // written; `node.state` must be the stored state (kInvalidArgument
  // otherwise: a state change is a Commit, with its ledger events) and
  // `node.version` the stored version (kBusy otherwise), which it
  // increments as Commit does. Readers see it at once, and it is ordered
  // before every later write, but it need not be durable when it returns:
  // a power loss may lose the routine updates made within
  // kRoutineDurabilityWindow after the last flush (never a Commit, and
  // never a routine update without every write after it). SQLite:
  // synchronous=NORMAL in WAL mode, with an fsync at least once per window;
  // PostgreSQL: synchronous_commit = off for the transaction (its WAL
  // writer flushes within wal_writer_delay).
  virtual Status RecordRoutineUpdate(const NodeRecord& node) = 0;

  // Challenges answered at any verifier on the database (issue 14). The
  // verifiers mint nonces that name their node and expiry under a key they
  // share, and check them (api/challenge_nonce.h), so issuing one stores
  // nothing. Redeeming one is kExpired when the database's clock reads at
  // or after `expires_at`; else a row under the nonce's unique key (not a
  // check then an insert), so of any number of redemptions at once, on any
  // connections, at most one is kValid and the rest kReused. Durable when it
  // returns: a power loss never makes a redeemed nonce valid again. The
  // nonce is 32 bytes (kInvalidArgument otherwise).
  virtual Result<ChallengeRedemption> RedeemChallenge(std::string_view node_id, ByteView nonce,
                                                      TimePoint expires_at) = 0;
  // An attestation's routine update and the redemption of the challenge it
  // answered, in one durable transaction: what RedeemChallenge finds, and
  // when that is kValid the update too, with RecordRoutineUpdate's checks
  // and errors (which then leave the nonce unredeemed). So a nonce is used
  // up exactly when its verdict is recorded, at the cost of one commit.
  virtual Result<ChallengeRedemption> RecordAnsweredRoutineUpdate(const NodeRecord& node,
                                                                  ByteView nonce,
                                                                  TimePoint expires_at) = 0;
  // Deletes the redemptions of nonces that expired more than `kept` ago by
  // the database's clock (answered again, they read kExpired); returns how
  // many.
  virtual Result<std::uint64_t> PruneChallenges(std::chrono::seconds kept) = 0;
  // The database's clock, which judges expiry: the verifiers mint expiries
  // by it.
  virtual Result<TimePoint> DatabaseNow() = 0;
};

}  // namespace attest::service
