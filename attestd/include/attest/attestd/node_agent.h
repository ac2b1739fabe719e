// One node's dealings with its TPM and the verifier: its identity (EK, AK,
// enrollment) kept in the state directory, and one attestation cycle at a
// time (measure, challenge, quote, evidence, certificate). The daemon
// (daemon.h) decides when to call; this class decides what to send.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/attestd/config.h"
#include "attest/attestd/node_certificate.h"
#include "attest/attestd/node_state.h"
#include "attest/attestd/runtime_pcr.h"
#include "attest/attestd/tpm.h"
#include "attest/attestd/verifier_client.h"
#include "attest/clock.h"
#include "attest/error.h"
#include "attest/protocol/evidence_document.h"

namespace attest::attestd {

// What one cycle came to, for the log, status.json and the schedule.
struct CycleOutcome {
  std::string state;  // the verifier's state for the node after the evidence
  bool trusted = false;
  bool recorded = false;
  std::vector<ReasonSummary> reasons;
  // The verifier asked for the boot log or the whole runtime log
  // (BOOT_LOG_REQUIRED / RUNTIME_LOG_REQUIRED first): send them at once.
  bool resend_in_full = false;
  std::optional<InstalledCertificate> new_certificate;
  std::string certificate_error;  // why a CSR got no certificate
  // Measurement and certificate problems that did not stop the cycle.
  std::vector<std::string> measurement_warnings;
  std::size_t runtime_entries = 0;
};

// Every step returns its failure as an Error the daemon retries with
// backoff. When the verifier answered that it does not know this node (a
// 404 to the challenge), node_unknown() says so and the daemon enrolls
// again, with the same AK.

class NodeAgent {
 public:
  // Opens the TPM named in `config` and loads the saved identity, if any.
  static Result<std::unique_ptr<NodeAgent>> Open(const AttestdConfig& config, const Clock& clock);

  // Creates the AK the first time (saved before the verifier hears of it,
  // so a crash never leaves two), then enrolls: POST /v1/enrollments,
  // ActivateCredential in the TPM, POST .../activate. A saved, activated
  // enrollment is kept as it is.
  Status EnsureEnrolled(VerifierClient& verifier);
  // Forgets the activation (the verifier answered 404 for this node).
  Status ForgetEnrollment();

  // Starts runtime measurements (checks the runtime log against its PCR,
  // finishing an extend a crash left pending). Once, before the first cycle.
  Status StartMeasurements();

  // One cycle: re-measure, challenge, quote, evidence (incremental when the
  // challenge allows it, whole when `in_full`), a CSR when the certificate
  // is due, and the certificate installed when one comes back.
  Result<CycleOutcome> Attest(VerifierClient& verifier, bool in_full);

  // Evidence over `nonce` for an offline check: the boot log and the whole
  // runtime log, the PCRs of `selection` quoted by the AK (created and
  // saved, not enrolled, when there is none yet).
  Result<protocol::Evidence> OfflineEvidence(ByteView nonce, const tpm::PcrSelection& selection);
  // The AK's TPM2B_PUBLIC (after OfflineEvidence or enrollment).
  Bytes AkPublic() const { return identity_ ? identity_->ak.public_area : Bytes(); }

  const std::optional<NodeIdentity>& identity() const { return identity_; }
  // Whether the last Attest failed because the verifier does not know the node.
  bool node_unknown() const { return node_unknown_; }
  // A cycle failed: the verifier may have revoked the certificate meanwhile
  // (a node that does not attest goes stale), so the next evidence asks for
  // a new one.
  void SuspectCertificate() { certificate_may_be_revoked_ = true; }
  const RuntimeMeasurements* measurements() const { return measurements_.get(); }

 private:
  NodeAgent(const AttestdConfig& config, const Clock& clock, std::unique_ptr<Tpm> tpm)
      : config_(config), clock_(&clock), tpm_(std::move(tpm)) {}

  Status EnsureIdentity();
  Result<Endorsement> ReadEndorsement();
  Status Enroll(VerifierClient& verifier);
  Result<NodeKey> EnsureNodeKey();
  Result<protocol::Evidence> BuildEvidence(const Json& challenge, bool in_full,
                                           std::uint32_t* reset_count);
  Status AddCertificateRequest(protocol::Evidence& evidence, const NodeKey& key);
  Result<CycleOutcome> ReadVerdict(const ApiResponse& response, const std::optional<NodeKey>& key);

  AttestdConfig config_;
  const Clock* clock_;
  std::unique_ptr<Tpm> tpm_;
  std::optional<Endorsement> endorsement_;
  std::optional<NodeIdentity> identity_;
  std::unique_ptr<RuntimeMeasurements> measurements_;
  // The verifier revokes a node's certificates whenever it is not trusted,
  // so at start, after a failed cycle and after any verdict but trusted the
  // next evidence asks for a new certificate, whatever the old one's dates
  // say.
  bool certificate_may_be_revoked_ = true;
  bool node_unknown_ = false;
  std::optional<std::string> start_check_warning_;  // reported with the next outcome
};

}  // namespace attest::attestd
