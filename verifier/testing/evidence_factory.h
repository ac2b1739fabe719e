// Evidence made in software for tests and benchmarks: a P-256 key with an
// AK's TPM public area signs TPMS_ATTEST quotes built with tss2-mu, over PCR
// values that a real boot log and a runtime log replay to. Lets every
// verifier check be driven to each of its outcomes without a TPM; the
// swtpm tests cover the same path with real quotes.
#pragma once

#include <string>
#include <vector>

#include "attest/bytes.h"
#include "attest/openssl.h"
#include "attest/runtime/log.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/quote.h"

namespace attest::verifier::test {

// Path of a file of the shared test vectors ("eventlogs/x.bin" under
// ATTEST_SHARED_TESTDATA_DIR), and its bytes (throws when it cannot be read;
// tests that use it start with ATTEST_NEED_SHARED_TESTDATA()).
std::string TestdataPath(const std::string& relative);
Bytes ReadTestdata(const std::string& relative);
// The same for the repository's own fixtures (testdata/, always there).
std::string FixturePath(const std::string& relative);
Bytes ReadFixture(const std::string& relative);

// A P-256 key in software with the TPM public area Tpm::CreateSigningKey
// gives its keys: non-restricted, sign only, fixedTPM, fixedParent,
// sensitiveDataOrigin, ECDSA-SHA256, nameAlg SHA-256. Tests change
// `public_area` to make keys the verifier must refuse.
struct SoftwareSigningKey {
  EvpPkeyPtr key;
  TPMT_PUBLIC public_area;
  Bytes MarshaledPublic() const;  // TPM2B_PUBLIC of public_area
};
SoftwareSigningKey MakeSoftwareSigningKey();

// `count` runtime entries for PCR `pcr`, files with distinct digests.
runtime::RuntimeLog ExampleRuntimeLog(std::size_t count, std::uint32_t pcr = 15);

class EvidenceFactory {
 public:
  EvidenceFactory();  // a fresh P-256 AK

  // The AK as a verifier loads it (from its TPM2B_PUBLIC).
  AttestationKey LoadedKey() const;
  Bytes MarshaledPublic() const { return marshaled_public_; }
  std::string PublicPem() const;

  // Evidence for `boot_log` (may be empty: no boot log) and `runtime`,
  // quoting `selection` with the PCR values the logs replay to (reset
  // values elsewhere).
  Evidence Make(const tpm::PcrSelection& selection, const Bytes& boot_log,
                const runtime::RuntimeLog& runtime, const Bytes& nonce,
                const QuoteClock& clock) const;

  // Re-signs evidence.attest after a test changed it.
  void Resign(Evidence& evidence) const;
  // TPM2_Certify of `certified` by this AK with `nonce` as qualifying data,
  // as a TPM makes it (TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY, signed
  // with ECDSA-SHA256), with the key's TPM2B_PUBLIC.
  KeyCertification Certify(const TPMT_PUBLIC& certified, const Bytes& nonce) const;
  // The TPMS_ATTEST alone, naming the object `name`.
  Bytes MakeCertifyAttest(ByteView name, const Bytes& nonce) const;
  // A TPMT_SIGNATURE by this AK over `attest`.
  Bytes Sign(ByteView attest) const;
  // A TPMS_ATTEST for the given parts, marshaled.
  Bytes MakeAttest(const tpm::PcrSelection& selection, const tpm::PcrValues& values,
                   const Bytes& nonce, const QuoteClock& clock) const;

 private:
  EvpPkeyPtr key_;
  Bytes marshaled_public_;
  Bytes name_;
};

// A policy allowing exactly what `evidence` shows (through LearnPolicy's
// rules), for `selection`.
Policy PolicyFor(const Evidence& evidence, const AttestationKey& key);

inline QuoteClock SafeClock(std::uint32_t reset_count = 3) {
  QuoteClock clock;
  clock.clock = 1'000'000;
  clock.reset_count = reset_count;
  clock.restart_count = 0;
  clock.safe = true;
  return clock;
}

}  // namespace attest::verifier::test
