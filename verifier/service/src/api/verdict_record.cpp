// RecordVerdict: what a verdict on authenticated evidence changes, as one
// store commit (attestation.cpp verifies; this records).
#include "verdict_record.h"

#include <algorithm>

#include "attest/ledger/kinds.h"
#include "attest/verifier/key_certification.h"

#include "attestation_commit.h"
#include "incremental_evidence.h"
#include "trust_decay.h"

namespace attest::service::api {
namespace {

using verifier::ReasonCode;

// Attempts at a failure's commit: a node's version moves only with a
// request about that node, so a second loss in a row is already rare.
constexpr int kFailureCommitAttempts = 8;

// The certificate for the evidence's CSR, when its key is proven
// TPM-resident (or file keys are allowed and no proof came).
Result<verifier::IssuedCertificate> IssueCertificate(Context& context, const NodeRecord& node,
                                                     const verifier::Evidence& evidence,
                                                     const verifier::AttestationKey& key,
                                                     const verifier::Policy& policy,
                                                     TimePoint now) {
  if (evidence.key_certification) {
    ATTEST_ASSIGN_OR_RETURN(Bytes csr_key, verifier::CsrPublicKey(*evidence.csr));
    ATTEST_RETURN_IF_ERROR(
        verifier::CheckKeyCertification(*evidence.key_certification, key, evidence.nonce, csr_key));
  } else if (!context.config.allow_file_keys) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "the CSR came without key_certification, and file keys are not allowed");
  }
  verifier::NodeCertificateRequest request;
  request.csr_pem = *evidence.csr;
  request.node_id = node.node_id;
  // The hostname is what the node said at enrollment: nothing the TPM or
  // the operator vouches for. In a CA-signed certificate it would let a
  // node claim another host's name (or the verifier's), so it stays a label
  // in the node record and never becomes a SAN. The identity is node_id.
  request.hostname.clear();
  request.trust_domain = policy.trust_domain.empty() ? "attest.local" : policy.trust_domain;
  request.lifetime = std::chrono::seconds(policy.certificate_lifetime_seconds);
  return context.ca->IssueNodeCertificate(request, now);
}

// A verdict may list a reason per runtime entry: tens of thousands for a
// node that measures many unapproved files. The node record and the ledger
// keep the first ones and a count, so the failure always fits their limits
// (a failure too large to commit would leave the node trusted).
constexpr std::size_t kRecordedReasons = 64;

Json ReasonsJson(const verifier::Verdict& verdict) {
  Json reasons = Json::array();
  for (const verifier::Reason& reason : verdict.reasons) {
    if (reasons.size() == kRecordedReasons) break;
    reasons.push_back(verifier::ReasonToJson(reason));
  }
  return reasons;
}

std::size_t ReasonsOmitted(const verifier::Verdict& verdict) {
  return verdict.reasons.size() > kRecordedReasons ? verdict.reasons.size() - kRecordedReasons : 0;
}

// The verdict as the node record keeps it: its reasons capped as above.
std::string RecordedVerdictJson(const verifier::Verdict& verdict, const Json& verdict_json) {
  if (ReasonsOmitted(verdict) == 0) return verdict_json.dump();
  Json capped = verdict_json;
  capped["reasons"] = ReasonsJson(verdict);
  capped["reasons_omitted"] = ReasonsOmitted(verdict);
  return capped.dump();
}

Status AddTrusted(Context& context, NodeRecord& node, StoreChange& change,
                  RecordedVerdict& recorded, const verifier::Evidence& evidence,
                  const verifier::Verdict& verdict, const verifier::AttestationKey& key,
                  const verifier::Policy& policy, TimePoint now) {
  node.state = NodeState::kTrusted;
  node.last_clock = verdict.quote->clock.clock;
  node.last_reset_count = verdict.quote->clock.reset_count;
  node.last_restart_count = verdict.quote->clock.restart_count;
  if (verdict.verified_boot && evidence.boot_log) {
    BootCache cache;
    cache.reset_count = verdict.verified_boot->reset_count;
    cache.restart_count = verdict.verified_boot->restart_count;
    Sha256Digest digest = Sha256Of(*evidence.boot_log);
    cache.boot_log_digest.assign(digest.begin(), digest.end());
    cache.verified_state_json = verifier::VerifiedBootStateToJson(*verdict.verified_boot).dump();
    node.boot_cache = std::move(cache);
  }
  KeepRuntimeCache(node, verdict);
  if (recorded.previous != NodeState::kTrusted) {
    change.events.push_back(
        {std::string(ledger::kinds::kNodeTrusted),
         {{"node_id", node.node_id}, {"previous_state", NodeStateName(recorded.previous)}}});
  }
  if (!evidence.csr) return OkStatus();
  auto certificate = IssueCertificate(context, node, evidence, key, policy, now);
  if (!certificate.ok()) {
    recorded.certificate_error = certificate.error().message;
    return OkStatus();
  }
  recorded.issued = std::move(certificate).value();
  const verifier::IssuedCertificate& issued = *recorded.issued;
  change.new_certificates.push_back({issued.serial_hex, node.node_id, issued.not_before,
                                     issued.not_after, issued.certificate_pem, std::nullopt, ""});
  change.events.push_back({std::string(ledger::kinds::kCertIssued),
                           {{"node_id", node.node_id},
                            {"serial", issued.serial_hex},
                            {"not_after", FormatRfc3339Utc(issued.not_after)}}});
  return OkStatus();
}

Status AddFailure(Context& context, NodeRecord& node, StoreChange& change, NodeState previous,
                  const verifier::Verdict& verdict, TimePoint now) {
  node.state = NodeState::kUntrusted;
  node.boot_cache.reset();
  node.runtime_cache.reset();
  Json failed = {{"node_id", node.node_id}, {"reasons", ReasonsJson(verdict)}};
  if (std::size_t omitted = ReasonsOmitted(verdict)) failed["reasons_omitted"] = omitted;
  change.events.push_back({std::string(ledger::kinds::kAttestationFailed), std::move(failed)});
  if (previous != NodeState::kUntrusted) {
    change.events.push_back({std::string(ledger::kinds::kNodeUntrusted),
                             {{"node_id", node.node_id},
                              {"previous_state", NodeStateName(previous)},
                              {"reason", FirstFailure(verdict)}}});
  }
  return RevokeCertificatesIn(context, change, node.node_id, now,
                              "attestation failed: " + FirstFailure(verdict));
}

// The node may still take this verdict: same AK, and attesting.
bool StillAttesting(const NodeRecord& fresh, const NodeRecord& read) {
  return fresh.ak_public == read.ak_public && fresh.state != NodeState::kPendingApproval &&
         fresh.state != NodeState::kRevoked;
}

}  // namespace

std::string FirstFailure(const verifier::Verdict& verdict) {
  for (const verifier::Reason& reason : verdict.reasons) {
    if (!verifier::IsInformational(reason.code)) {
      return std::string(verifier::ReasonCodeName(reason.code));
    }
  }
  return "";
}

Result<RecordedVerdict> RecordVerdict(Context& context, NodeRecord node,
                                      const verifier::Evidence& evidence,
                                      const verifier::Verdict& verdict, const Json& verdict_json,
                                      const verifier::AttestationKey& key,
                                      const verifier::Policy& policy, TimePoint now,
                                      std::optional<ChallengeAnswer> answer) {
  const NodeRecord read = node;
  // Evidence with a CSR has a certificate signed for it, so it is never a
  // routine update: its nonce is redeemed first, and a replay of it costs
  // no signature.
  if (answer && verdict.trusted && evidence.csr) {
    ATTEST_ASSIGN_OR_RETURN(std::optional<ChallengeOutcome> refused,
                            RedeemAnswer(context, read.node_id, answer));
    if (refused) {
      RecordedVerdict recorded;
      recorded.previous = read.state;
      recorded.node = read;
      recorded.nonce_refused = refused;
      return recorded;
    }
  }
  for (int attempt = 1;; ++attempt) {
    RecordedVerdict recorded;
    recorded.previous = node.state;
    node.last_attestation = now;
    node.last_verdict_json = RecordedVerdictJson(verdict, verdict_json);
    StoreChange change;
    if (verdict.trusted) {
      ATTEST_RETURN_IF_ERROR(
          AddTrusted(context, node, change, recorded, evidence, verdict, key, policy, now));
    } else {
      ATTEST_RETURN_IF_ERROR(AddFailure(context, node, change, recorded.previous, verdict, now));
    }
    change.node = node;
    Result<AttestationCommit> committed =
        CommitAttestation(context, change, recorded.previous, answer);
    if (committed.ok() && committed->nonce_refused) {
      recorded.nonce_refused = committed->nonce_refused;
      recorded.node = read;
      return recorded;
    }
    if (committed.ok()) {
      const std::int64_t stored_version = node.version + 1;  // what the commit stored
      if (verdict.trusted) {
        context.trust_deadlines.Trusted(node.node_id, now, stored_version);
      } else {
        context.trust_deadlines.Forget(node.node_id, stored_version);
      }
      if (recorded.previous != node.state) {
        NotifyStateChange(context, node, recorded.previous,
                          verdict.trusted ? "attestation passed" : FirstFailure(verdict));
      }
      recorded.node = std::move(node);
      recorded.recorded = true;
      return recorded;
    }
    // A trusted verdict that lost the race is the node's to retry (a
    // failure may have come in between); a failure must not be lost.
    if (verdict.trusted || committed.error().code != ErrorCode::kBusy ||
        attempt == kFailureCommitAttempts) {
      return committed.error();
    }
    ATTEST_ASSIGN_OR_RETURN(std::optional<NodeRecord> fresh, context.store->GetNode(read.node_id));
    if (!fresh || !StillAttesting(*fresh, read)) {
      recorded.node = fresh ? std::move(*fresh) : read;
      return recorded;
    }
    node = std::move(*fresh);
  }
}

}  // namespace attest::service::api
