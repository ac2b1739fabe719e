// TPM2_Quote and TPM2_Certify: the AK's signed statements about PCRs and
// about other keys.
#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "attest/attestd/tpm.h"
#include "attest/openssl.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/response_code.h"

#include "src/tpm_internal.h"

namespace attest::attestd {
namespace {

constexpr int kQuoteAttempts = 4;

Result<TPM2B_DATA> QualifyingData(ByteView data) {
  TPM2B_DATA result{};
  // A qualifying value longer than a digest is refused by the TPM (TPMU_HA).
  if (data.size() > sizeof(TPMU_HA)) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "qualifying data of " + std::to_string(data.size()) + " bytes; at most 64 fit in a quote");
  }
  result.size = static_cast<std::uint16_t>(data.size());
  std::copy(data.begin(), data.end(), result.buffer);
  return result;
}

// The hash of the AK's signing scheme, which the TPM also uses for pcrDigest.
Result<std::uint16_t> SigningHash(const KeyBlob& key) {
  ATTEST_ASSIGN_OR_RETURN(
      TPM2B_PUBLIC public_key,
      tpm::Unmarshal<TPM2B_PUBLIC>(key.public_area, Tss2_MU_TPM2B_PUBLIC_Unmarshal,
                                   "attestation key TPM2B_PUBLIC"));
  const TPMT_PUBLIC& area = public_key.publicArea;
  if (area.type == TPM2_ALG_RSA) return area.parameters.rsaDetail.scheme.details.anySig.hashAlg;
  if (area.type == TPM2_ALG_ECC) return area.parameters.eccDetail.scheme.details.anySig.hashAlg;
  return MakeError(ErrorCode::kInvalidArgument, "the attestation key is neither RSA nor ECC");
}

}  // namespace

Result<Quote> Tpm::QuoteOnce(ESYS_TR attestation_key, ByteView nonce,
                             const tpm::PcrSelection& selection) {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_DATA qualifying, QualifyingData(nonce));
  ATTEST_ASSIGN_OR_RETURN(TPML_PCR_SELECTION tpm_selection, tpm::ToTpmSelection(selection));
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // the AK's own scheme
  TPM2B_ATTEST* raw_quoted = nullptr;
  TPMT_SIGNATURE* raw_signature = nullptr;
  TSS2_RC rc = Esys_Quote(esys(), attestation_key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                          &qualifying, &scheme, &tpm_selection, &raw_quoted, &raw_signature);
  EsysPtr<TPM2B_ATTEST> quoted(raw_quoted);
  EsysPtr<TPMT_SIGNATURE> signature(raw_signature);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_Quote(" + selection.ToString() + ")");
  Quote quote;
  quote.attest.assign(quoted->attestationData, quoted->attestationData + quoted->size);
  quote.signature = tpm::Marshal(*signature, Tss2_MU_TPMT_SIGNATURE_Marshal);
  quote.selection = selection;
  return quote;
}

Result<Quote> Tpm::MakeQuote(const KeyBlob& attestation_key, ByteView nonce,
                             const tpm::PcrSelection& selection) {
  if (selection.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty PCR selection");
  ATTEST_ASSIGN_OR_RETURN(std::uint16_t digest_algorithm, SigningHash(attestation_key));
  ATTEST_ASSIGN_OR_RETURN(std::vector<TpmHandle> loaded, LoadKeys({&attestation_key}));
  for (int attempt = 1;; ++attempt) {
    ATTEST_ASSIGN_OR_RETURN(Quote quote, QuoteOnce(loaded[0].get(), nonce, selection));
    ATTEST_ASSIGN_OR_RETURN(quote.pcrs, ReadPcrs(selection));
    ATTEST_ASSIGN_OR_RETURN(TPMS_ATTEST attest,
                            tpm::Unmarshal<TPMS_ATTEST>(quote.attest, Tss2_MU_TPMS_ATTEST_Unmarshal,
                                                        "TPMS_ATTEST from TPM2_Quote"));
    ATTEST_ASSIGN_OR_RETURN(Bytes composite,
                            tpm::PcrCompositeDigest(selection, quote.pcrs, digest_algorithm));
    const TPM2B_DIGEST& quoted = attest.attested.quote.pcrDigest;
    if (Bytes(quoted.buffer, quoted.buffer + quoted.size) == composite) {
      quote.reset_count = attest.clockInfo.resetCount;
      quote.restart_count = attest.clockInfo.restartCount;
      return quote;
    }
    if (attempt == kQuoteAttempts) {
      return MakeError(ErrorCode::kBusy,
                       "PCRs kept changing between TPM2_Quote and "
                       "TPM2_PCR_Read (" +
                           std::to_string(kQuoteAttempts) + " attempts)");
    }
  }
}

Result<Certification> Tpm::Certify(const KeyBlob& key, const KeyBlob& attestation_key,
                                   ByteView qualifying_data) {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_DATA qualifying, QualifyingData(qualifying_data));
  ATTEST_ASSIGN_OR_RETURN(std::vector<TpmHandle> loaded, LoadKeys({&key, &attestation_key}));
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;
  TPM2B_ATTEST* raw_certified = nullptr;
  TPMT_SIGNATURE* raw_signature = nullptr;
  TSS2_RC rc =
      Esys_Certify(esys(), loaded[0].get(), loaded[1].get(), ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
                   ESYS_TR_NONE, &qualifying, &scheme, &raw_certified, &raw_signature);
  EsysPtr<TPM2B_ATTEST> certified(raw_certified);
  EsysPtr<TPMT_SIGNATURE> signature(raw_signature);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_Certify");
  return Certification{
      Bytes(certified->attestationData, certified->attestationData + certified->size),
      tpm::Marshal(*signature, Tss2_MU_TPMT_SIGNATURE_Marshal)};
}

Result<Bytes> Tpm::SignDigest(const KeyBlob& signing_key, ByteView sha256_digest) {
  TPM2B_DIGEST digest{};
  if (sha256_digest.size() != 32) {
    return MakeError(ErrorCode::kInvalidArgument, "TPM2_Sign: a SHA-256 digest is 32 bytes, not " +
                                                      std::to_string(sha256_digest.size()));
  }
  digest.size = 32;
  std::copy(sha256_digest.begin(), sha256_digest.end(), digest.buffer);
  ATTEST_ASSIGN_OR_RETURN(std::vector<TpmHandle> loaded, LoadKeys({&signing_key}));
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_ECDSA;
  scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  // An unrestricted key signs any digest: no ticket from TPM2_Hash is needed.
  TPMT_TK_HASHCHECK validation{};
  validation.tag = TPM2_ST_HASHCHECK;
  validation.hierarchy = TPM2_RH_NULL;
  TPMT_SIGNATURE* raw_signature = nullptr;
  TSS2_RC rc = Esys_Sign(esys(), loaded[0].get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                         &digest, &scheme, &validation, &raw_signature);
  EsysPtr<TPMT_SIGNATURE> signature(raw_signature);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_Sign");
  if (signature->sigAlg != TPM2_ALG_ECDSA) {
    return MakeError(ErrorCode::kTpm, "TPM2_Sign returned a signature that is not ECDSA");
  }
  const TPMS_SIGNATURE_ECDSA& ecdsa = signature->signature.ecdsa;
  std::unique_ptr<ECDSA_SIG, OpensslDeleter<ECDSA_SIG_free>> der_signature(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(ecdsa.signatureR.buffer, ecdsa.signatureR.size, nullptr);
  BIGNUM* s = BN_bin2bn(ecdsa.signatureS.buffer, ecdsa.signatureS.size, nullptr);
  if (!der_signature || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(der_signature.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpensslError("ECDSA_SIG from TPM2_Sign");
  }
  const int length = i2d_ECDSA_SIG(der_signature.get(), nullptr);
  if (length <= 0) return OpensslError("i2d_ECDSA_SIG");
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  i2d_ECDSA_SIG(der_signature.get(), &out);
  return der;
}

}  // namespace attest::attestd
