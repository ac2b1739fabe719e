#include "attest/verifier/quote.h"

#include <string>
#include <string_view>

#include <tss2/tss2_mu.h>

#include "attest/tpm/marshal.h"

namespace attest::verifier {
namespace {

// TPMS_ATTEST (Part 2 §10.12.12), exactly the bytes given, produced by a
// TPM (magic TPM_GENERATED_VALUE) and of the `expected` type (`what`
// names it in the error).
Result<TPMS_ATTEST> ParseTpmsAttest(ByteView attest, TPM2_ST expected, std::string_view what) {
  ATTEST_ASSIGN_OR_RETURN(
      TPMS_ATTEST parsed,
      tpm::Unmarshal<TPMS_ATTEST>(attest, Tss2_MU_TPMS_ATTEST_Unmarshal, "TPMS_ATTEST"));
  if (parsed.magic != TPM2_GENERATED_VALUE) {
    return MakeError(ErrorCode::kCorrupt,
                     "magic is not TPM_GENERATED_VALUE: the TPM did not produce these bytes");
  }
  if (parsed.type != expected) {
    return MakeError(ErrorCode::kCorrupt, "the attestation is not " + std::string(what) +
                                              " (type " + std::to_string(parsed.type) + ")");
  }
  return parsed;
}

Bytes NameBytes(const TPM2B_NAME& name) { return Bytes(name.name, name.name + name.size); }

}  // namespace

Result<QuoteInfo> ParseQuote(ByteView attest) {
  ATTEST_ASSIGN_OR_RETURN(TPMS_ATTEST parsed,
                          ParseTpmsAttest(attest, TPM2_ST_ATTEST_QUOTE, "a quote"));
  QuoteInfo info;
  const TPMS_QUOTE_INFO& quote = parsed.attested.quote;
  ATTEST_ASSIGN_OR_RETURN(info.selection, tpm::FromTpmSelection(quote.pcrSelect));
  info.pcr_digest.assign(quote.pcrDigest.buffer, quote.pcrDigest.buffer + quote.pcrDigest.size);
  info.extra_data.assign(parsed.extraData.buffer, parsed.extraData.buffer + parsed.extraData.size);
  info.qualified_signer = NameBytes(parsed.qualifiedSigner);
  info.clock.clock = parsed.clockInfo.clock;
  info.clock.reset_count = parsed.clockInfo.resetCount;
  info.clock.restart_count = parsed.clockInfo.restartCount;
  info.clock.safe = parsed.clockInfo.safe == TPM2_YES;
  info.firmware_version = parsed.firmwareVersion;
  return info;
}

Result<CertifyInfo> ParseCertify(ByteView attest) {
  ATTEST_ASSIGN_OR_RETURN(TPMS_ATTEST parsed,
                          ParseTpmsAttest(attest, TPM2_ST_ATTEST_CERTIFY, "a key certification"));
  CertifyInfo info;
  info.name = NameBytes(parsed.attested.certify.name);
  info.qualified_name = NameBytes(parsed.attested.certify.qualifiedName);
  info.extra_data.assign(parsed.extraData.buffer, parsed.extraData.buffer + parsed.extraData.size);
  info.qualified_signer = NameBytes(parsed.qualifiedSigner);
  return info;
}

}  // namespace attest::verifier
