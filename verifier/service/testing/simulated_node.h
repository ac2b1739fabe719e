// A node without a TPM that speaks the verifier's real protocol: a software
// EK (whose private half performs TPM2_ActivateCredential's math) and a
// software AK that signs TPMS_ATTEST quotes and certifications built with
// tss2-mu, the bytes and names a TPM makes. The service tests (through
// Service::Handle or over HTTPS) and the load generator
// (bench/service_load.cpp) drive the service through it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/http/client.h"
#include "attest/json.h"
#include "attest/openssl.h"
#include "attest/runtime/log.h"
#include "attest/verifier/make_credential.h"

#include "evidence_factory.h"

namespace attest::service::test {

enum class EkKind {
  kRsa2048,  // the TCG default EK template (L-1): what most TPMs carry
  kEccP256,  // the TCG ECC template (L-2): key generation is cheap, for bulk enrollment
};

// What a node measures: the same for every node of a test or a benchmark,
// so one policy (verifier::test::PolicyFor) admits them all.
struct NodeMeasurements {
  Bytes boot_log;                   // raw TCG event log; empty: the node has none
  runtime::RuntimeLog runtime_log;  // what a node has measured when it starts
  // What a node measures after, in order, as SimulatedNode::MeasureMore
  // asks: known in advance so one policy approves them too.
  std::vector<runtime::RuntimeEntry> runtime_later;
};

struct AttestOptions {
  // Send the boot log and the whole runtime log even when the challenge
  // says the verifier holds them (a node's first contact, or after
  // BOOT_LOG_REQUIRED or RUNTIME_LOG_REQUIRED).
  bool force_boot_log = false;
  // Ask for a certificate: a CSR for a fresh TPM-resident-shaped P-256 key
  // and the AK's TPM2_Certify of that key over the nonce.
  bool with_csr = false;
};

struct AttestResult {
  int status = 0;  // of the evidence POST (or of the challenge POST when that failed)
  Json body;       // the parsed response
  bool sent_boot_log = false;
  bool sent_runtime_from_cursor = false;  // only the entries after the challenge's cursor
};

class SimulatedNode {
 public:
  // A fresh EK of `ek_kind` and a fresh P-256 AK; `measurements` outlives the node.
  SimulatedNode(std::string hostname, const NodeMeasurements& measurements,
                EkKind ek_kind = EkKind::kRsa2048);
  // The same TPM (EK) with a new AK: what a re-enrollment presents.
  SimulatedNode(std::string hostname, const SimulatedNode& same_tpm);

  const std::string& node_id() const { return node_id_; }
  const std::string& hostname() const { return hostname_; }
  const Bytes& ek_public() const { return ek_public_; }  // marshaled TPM2B_PUBLIC
  Bytes ak_public() const { return ak_.MarshaledPublic(); }
  const verifier::test::EvidenceFactory& ak() const { return ak_; }

  // The body of POST /v1/enrollments: hostname, EK and AK.
  Json EnrollmentBody() const;
  // The secret the credential of a POST /v1/enrollments response carries,
  // as the node's TPM releases it for its AK; an error when it does not open.
  Result<Bytes> ActivateCredential(const Json& enrollment) const;

  // POST /v1/enrollments, TPM2_ActivateCredential in software, POST
  // .../activate. The node's id must be on the verifier's EK allowlist.
  // Returns the activation's response body; an error for any other status.
  Result<Json> Enroll(http::Client& client);

  // TPM2_ActivateCredential with this node's EK
  // (verifier::test::SoftwareActivateCredential).
  Result<Bytes> ActivateCredential(const verifier::Credential& credential,
                                   ByteView object_name) const;

  // Evidence answering `nonce`: the AK's quote of `selection` over what the
  // logs replay to, the boot log (when the node has one) and the runtime log.
  verifier::Evidence MakeEvidence(const Bytes& nonce, const tpm::PcrSelection& selection,
                                  verifier::QuoteClock clock = verifier::test::SafeClock()) const;
  // The same quote, with the runtime log sent from `runtime_start` (the
  // verifier's cursor): only the entries after it, runtime_log_start set.
  verifier::Evidence MakeEvidenceFrom(
      const Bytes& nonce, const tpm::PcrSelection& selection, std::uint64_t runtime_start,
      verifier::QuoteClock clock = verifier::test::SafeClock()) const;
  // A CSR for a fresh TPM-resident-shaped P-256 key, and (`with_proof`) the
  // AK's TPM2_Certify of that key over the evidence's nonce.
  void AddCertificateRequest(verifier::Evidence& evidence, bool with_proof = true) const;

  // attestd measured `count` more runtime files (the next entries of the
  // measurements' runtime_later).
  void MeasureMore(std::size_t count);
  // A reboot: the runtime log starts again (as /run does) with its first
  // `entries` (of runtime_log, then runtime_later).
  void RestartRuntimeLog(std::size_t entries);
  // How many runtime files the node has measured this boot.
  std::size_t runtime_entries() const;
  // The node's runtime log now: its first runtime_entries() entries.
  runtime::RuntimeLog RuntimeLogNow() const;

  // One attestation: a challenge, then evidence answering it. Statuses
  // other than 201 / 200 come back in the result, not as errors; errors are
  // for the transport and unparseable answers.
  Result<AttestResult> Attest(http::Client& client, const AttestOptions& options = {});

  // The evidence document (JSON text) answering `challenge` (the challenge
  // response's body), as attestd would send it: without what the verifier
  // says it holds for this boot (the boot log, the runtime log up to the
  // challenge's runtime_log_cursor).
  Result<std::string> EvidenceFor(const Json& challenge, const AttestOptions& options);
  // The runtime_log_cursor of `challenge` when it is of the node's boot and
  // within its log, else 0 (send the runtime log whole).
  std::uint64_t RuntimeStart(const Json& challenge, const AttestOptions& options) const;

 private:
  std::string hostname_;
  const NodeMeasurements& measurements_;
  EvpPkeyPtr ek_;
  Bytes ek_public_;
  std::string node_id_;
  verifier::test::EvidenceFactory ak_;
  // The TPM's clock: advances with every quote, as a running TPM's does.
  std::atomic<std::uint64_t> clock_{1'000'000};
  mutable std::mutex state_mutex_;  // guards what follows
  std::size_t runtime_entries_ = 0;
  std::optional<tpm::PcrValues> pcrs_;  // what the logs replay to, for pcr_selection_
  std::string pcr_selection_;
};

}  // namespace attest::service::test
