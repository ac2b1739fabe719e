#include "attest/verifier/quote.h"

#include <string>

#include <tss2/tss2_mu.h>

#include "attest/tpm/marshal.h"

namespace attest::verifier {

Result<QuoteInfo> ParseQuote(ByteView attest) {
  ATTEST_ASSIGN_OR_RETURN(
      TPMS_ATTEST parsed,
      tpm::Unmarshal<TPMS_ATTEST>(attest, Tss2_MU_TPMS_ATTEST_Unmarshal, "TPMS_ATTEST"));
  if (parsed.magic != TPM2_GENERATED_VALUE) {
    return MakeError(ErrorCode::kCorrupt,
                     "magic is not TPM_GENERATED_VALUE: the TPM did not produce these bytes");
  }
  if (parsed.type != TPM2_ST_ATTEST_QUOTE) {
    return MakeError(ErrorCode::kCorrupt,
                     "the attestation is not a quote (type " + std::to_string(parsed.type) + ")");
  }
  QuoteInfo info;
  const TPMS_QUOTE_INFO& quote = parsed.attested.quote;
  ATTEST_ASSIGN_OR_RETURN(info.selection, tpm::FromTpmSelection(quote.pcrSelect));
  info.pcr_digest.assign(quote.pcrDigest.buffer, quote.pcrDigest.buffer + quote.pcrDigest.size);
  info.extra_data.assign(parsed.extraData.buffer, parsed.extraData.buffer + parsed.extraData.size);
  info.qualified_signer.assign(parsed.qualifiedSigner.name,
                               parsed.qualifiedSigner.name + parsed.qualifiedSigner.size);
  info.clock.clock = parsed.clockInfo.clock;
  info.clock.reset_count = parsed.clockInfo.resetCount;
  info.clock.restart_count = parsed.clockInfo.restartCount;
  info.clock.safe = parsed.clockInfo.safe == TPM2_YES;
  info.firmware_version = parsed.firmwareVersion;
  return info;
}

}  // namespace attest::verifier
