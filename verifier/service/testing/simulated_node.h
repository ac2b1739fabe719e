// A node without a TPM that speaks the verifier's real protocol over HTTPS:
// a software EK (whose private half performs TPM2_ActivateCredential's math)
// and a software AK that signs TPMS_ATTEST quotes and certifications built
// with tss2-mu, the bytes and names a TPM makes. The service tests and the
// load generator (bench/service_load.cpp) drive the service through it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

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
  Bytes boot_log;  // raw TCG event log; empty: the node has none
  runtime::RuntimeLog runtime_log;
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

  const std::string& node_id() const { return node_id_; }
  const std::string& hostname() const { return hostname_; }
  const Bytes& ek_public() const { return ek_public_; }  // marshaled TPM2B_PUBLIC
  Bytes ak_public() const { return ak_.MarshaledPublic(); }
  const verifier::test::EvidenceFactory& ak() const { return ak_; }

  // POST /v1/enrollments, TPM2_ActivateCredential in software, POST
  // .../activate. The node's id must be on the verifier's EK allowlist.
  // Returns the activation's response body; an error for any other status.
  Result<Json> Enroll(http::Client& client);

  // What TPM2_ActivateCredential does with the EK's private key (TPM 2.0
  // Part 1 §24): recover the seed, check the integrity HMAC over the blob
  // and `object_name`, decrypt the credential. kVerificationFailed when the
  // HMAC does not match (a credential for another key or another EK).
  Result<Bytes> ActivateCredential(const verifier::Credential& credential,
                                   ByteView object_name) const;

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
  Result<Bytes> RecoverSeed(ByteView encrypted_secret) const;

  std::string hostname_;
  const NodeMeasurements& measurements_;
  EvpPkeyPtr ek_;
  Bytes ek_public_;
  std::string node_id_;
  verifier::test::EvidenceFactory ak_;
  // The TPM's clock: advances with every quote, as a running TPM's does.
  std::atomic<std::uint64_t> clock_{1'000'000};
  std::mutex pcr_mutex_;
  std::optional<tpm::PcrValues> pcrs_;  // what the logs replay to, for pcr_selection_
  std::string pcr_selection_;
};

}  // namespace attest::service::test
