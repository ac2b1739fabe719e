// What every handler of the service shares: the configuration, the store,
// the ledger, the CA, the policy in force, the challenges, the caches and
// the rate limits. One per Service; its members are thread safe or guarded
// by the mutex next to them.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "attest/clock.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/note.h"
#include "attest/secret.h"
#include "attest/service/config.h"
#include "attest/service/store.h"
#include "attest/signer/public_key.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/certificate_authority.h"
#include "attest/verifier/ek_certificate.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/verify.h"

#include "challenge_book.h"
#include "challenge_nonce.h"
#include "metrics.h"
#include "rate_limiter.h"
#include "responses.h"
#include "router.h"
#include "trust_decay.h"
#include "webhooks.h"

namespace attest::service::api {

// The policy in force: as signed, and with the runtime digests the signer's
// ledger approvals add (what verification uses).
struct ActivePolicy {
  PolicyRecord record;
  verifier::Policy policy;
  verifier::Policy effective;
  std::uint64_t ledger_size_seen = 0;  // approvals read up to here
  TimePoint checked_at{};
};

// Per node, what is expensive to rebuild: the parsed AK and the parsed
// cached boot and runtime states (each keyed by the bytes it came from).
struct NodeCacheEntry {
  Bytes ak_public;
  std::shared_ptr<const verifier::AttestationKey> key;
  std::string boot_state_json;
  std::shared_ptr<const verifier::VerifiedBootState> boot_state;
  std::string runtime_state_json;
  std::shared_ptr<const verifier::VerifiedRuntimeState> runtime_state;
};

struct Context {
  Context(const ServiceConfig& service_config, const Clock& service_clock)
      : config(service_config),
        clock(service_clock),
        layout{service_config.state_dir},
        storage(ResolveStorage(service_config.storage, service_config.state_dir)),
        by_address(service_config.rate_limit.per_second, service_config.rate_limit.burst),
        by_node(service_config.rate_limit.per_second, service_config.rate_limit.burst) {}

  const ServiceConfig config;
  const Clock& clock;
  const StateLayout layout;
  // PostgreSQL: other verifiers may share it (shared_state.cpp).
  const StorageLocation storage;

  std::unique_ptr<ServiceStore> store;

  std::mutex ledger_mutex;  // one ledger connection: one thread at a time
  std::optional<ledger::Ledger> ledger;
  std::optional<ledger::NoteSigner> ledger_signer;

  std::optional<verifier::CertificateAuthority> ca;
  std::mutex crl_mutex;
  std::string crl_pem;  // "" until made, and again after a revocation
  TimePoint crl_made_at{};
  // What crl_pem lists: a CRL is made anew when the store's revoked set
  // differs, so revocations other verifiers commit show at once.
  std::vector<std::string> crl_serials;

  std::optional<verifier::EkCaBundle> ek_bundle;
  std::set<std::string> ek_allowlist;
  signer::TrustedKeys policy_keys;
  signer::TrustedKeys approval_keys;

  std::mutex policy_mutex;
  std::shared_ptr<const ActivePolicy> policy;

  ChallengeBook challenges;  // SQLite's (one verifier)
  // PostgreSQL's (several verifiers): nonces minted with the shared key
  // (challenge_nonce.h), their expiry by the database's clock, which runs
  // this far (microseconds) ahead of this host's as last measured.
  std::optional<SecretBytes> challenge_key;
  MintedChallenges minted_challenges;
  std::atomic<std::int64_t> database_clock_ahead_micros{0};
  RateLimiter by_address;
  RateLimiter by_node;

  std::mutex node_cache_mutex;
  std::unordered_map<std::string, NodeCacheEntry> node_cache;

  Metrics metrics;
  std::unique_ptr<WebhookSender> webhooks;

  TrustDeadlines trust_deadlines;
  std::mutex trust_sweep_mutex;  // one ExpireStaleNodes at a time
  // Last: stopped (joined) before anything it reads is destroyed.
  std::unique_ptr<TrustSweeper> trust_sweeper;
};

// nullopt when the request carries a live token of `minimum` role or above
// (and, with a client CA configured, a client certificate); else 401 or 403.
std::optional<ApiError> Authorize(Context& context, const http::Request& request, Role minimum);
// 429 with Retry-After when `key` has spent its bucket.
std::optional<ApiError> Limit(RateLimiter& limiter, std::string_view key, TimePoint now);

// Commits, then moves the ledger events into the ledger (a failure there is
// logged: the outbox keeps them for the next drain). A revocation makes the
// CRL be regenerated on its next request.
Result<CommitResult> CommitChange(Context& context, const StoreChange& change);
void DrainLedger(Context& context);
// Adds to `change` the revocation of every unrevoked certificate of the
// node and its cert.revoked entry (the serials read now; the node's version
// check makes the commit fail if one was issued meanwhile).
Status RevokeCertificatesIn(Context& context, StoreChange& change, const std::string& node_id,
                            TimePoint now, std::string_view reason);

// The policy in force, with the ledger's approvals re-read when the ledger
// grew (checked at most every few seconds). Never null after Open.
std::shared_ptr<const ActivePolicy> CurrentPolicy(Context& context);
// Installs `record` (already committed) as the policy in force.
Status InstallPolicy(Context& context, const PolicyRecord& record);

// The parsed AK of a node record, cached by node id and AK bytes.
Result<std::shared_ptr<const verifier::AttestationKey>> NodeKey(Context& context,
                                                                const NodeRecord& node);
// The parsed boot cache of a node record, or null.
std::shared_ptr<const verifier::VerifiedBootState> NodeBootState(Context& context,
                                                                 const NodeRecord& node);

// A node's JSON as GET /v1/nodes/{id} shows it.
Json NodeToJson(const NodeRecord& node, const std::vector<CertificateRecord>& certificates);
// A state change for webhooks and the metrics' gauges.
void NotifyStateChange(Context& context, const NodeRecord& node, NodeState previous,
                       std::string_view why);

void AddEnrollmentRoutes(Router& router, Context& context);
void AddAttestationRoutes(Router& router, Context& context);
void AddNodeRoutes(Router& router, Context& context);
void AddPolicyRoutes(Router& router, Context& context);
void AddLedgerRoutes(Router& router, Context& context);
void AddAdminRoutes(Router& router, Context& context);  // tokens, health, metrics, keys

// A challenge for a node: with PostgreSQL, a nonce minted with the key
// every verifier on the database holds, remembered against the node row
// it was minted from (MintedChallenges); else from the in-memory book.
Result<IssuedChallenge> IssueNodeChallenge(Context& context, const NodeRecord& node,
                                           std::string_view requester, TimePoint now,
                                           std::chrono::seconds lifetime);
// A challenge the evidence answers, redeemed with the verdict, in the
// transaction that records it (CommitAttestation).
struct ChallengeAnswer {
  Bytes nonce;
  TimePoint expires_at;  // by the database's clock
};
// What checking the evidence's nonce found. With SQLite the check uses the
// challenge up (the in-memory book). With PostgreSQL a nonce that opens
// under the key for this node and has not expired (by this verifier's
// reading of the database's clock) is kValid with its `answer`, which the
// verdict's commit redeems: the database then decides reuse and expiry.
struct CheckedChallenge {
  ChallengeOutcome outcome = ChallengeOutcome::kUnknown;
  std::optional<ChallengeAnswer> answer;
};
Result<CheckedChallenge> CheckNodeChallenge(Context& context, const std::string& node_id,
                                            ByteView nonce, TimePoint now);
// A redemption's outcome as the API names it.
ChallengeOutcome OutcomeOf(ChallengeRedemption redemption);
// With PostgreSQL, every few seconds: drains the ledger outbox (a drain
// finds the lock held by another verifier's and leaves it the events),
// prunes old challenges, measures the database's clock, takes in the
// trust deadlines of nodes other verifiers attested (so a verifier that
// stops leaves none unwatched), and the node counts.
void RefreshSharedState(Context& context);
// How far the database's clock runs ahead of this host's (for the expiries
// of minted nonces): measured once at start and on every refresh.
Status MeasureDatabaseClock(Context& context);

// "ab12..." 64 lowercase hex.
bool IsNodeId(std::string_view text);

}  // namespace attest::service::api
