// The TPM's signed statements (TPMS_ATTEST, TPM 2.0 Part 2 §10.12.12) the
// verifier reads, unmarshaled with tss2-mu and reduced to what the checks
// need: a quote (TPM_ST_ATTEST_QUOTE) and a key certification
// (TPM_ST_ATTEST_CERTIFY).
#pragma once

#include <cstdint>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/tpm/pcr.h"

namespace attest::verifier {

// TPMS_CLOCK_INFO: how the verifier tells a fresh boot from a replayed or
// rolled-back TPM state.
struct QuoteClock {
  std::uint64_t clock = 0;  // ms the TPM has been powered, never reset by software
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  bool safe = false;
};

struct QuoteInfo {
  tpm::PcrSelection selection;
  Bytes pcr_digest;
  Bytes extra_data;  // the nonce the TPM signed
  QuoteClock clock;
  std::uint64_t firmware_version = 0;
  Bytes qualified_signer;
};

// kCorrupt when the bytes are not one TPMS_ATTEST, or its magic is not
// TPM_GENERATED_VALUE, or it is not a quote: the caller reports
// ATTEST_MALFORMED with the message.
Result<QuoteInfo> ParseQuote(ByteView attest);

// TPM2_Certify's statement (TPMS_CERTIFY_INFO, Part 2 §10.12.3): the
// signing key vouches that an object with this name is loaded in the TPM.
struct CertifyInfo {
  Bytes name;            // the certified object's name: nameAlg || H(TPMT_PUBLIC)
  Bytes qualified_name;  // its qualified name (the name of its hierarchy path)
  Bytes extra_data;      // the qualifying data (nonce) the TPM signed
  Bytes qualified_signer;
};

// kCorrupt as ParseQuote, for a TPMS_ATTEST that is not a certification.
Result<CertifyInfo> ParseCertify(ByteView attest);

}  // namespace attest::verifier
