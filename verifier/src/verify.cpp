#include "attest/verifier/verify.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/signature.h"

#include "verify_internal.h"

namespace attest::verifier {
namespace internal {
namespace {

// The digest algorithm of a quote's pcrDigest is the signing scheme's hash;
// its size tells which of the banks' algorithms it is.
std::optional<std::uint16_t> PcrDigestAlgorithm(const Bytes& pcr_digest) {
  for (std::uint16_t id : {TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512, TPM2_ALG_SHA1}) {
    if (tpm::HashAlgorithmById(id)->digest_size == pcr_digest.size()) return id;
  }
  return std::nullopt;
}

bool SameSelection(const tpm::PcrSelection& a, const tpm::PcrSelection& b) {
  if (a.banks.size() != b.banks.size()) return false;
  for (std::size_t i = 0; i < a.banks.size(); ++i) {
    if (a.banks[i].hash_algorithm != b.banks[i].hash_algorithm ||
        a.banks[i].indexes != b.banks[i].indexes) {
      return false;
    }
  }
  return true;
}

void CheckSignature(Verification& verification) {
  const Evidence& evidence = verification.input.evidence;
  Result<TPMT_SIGNATURE> signature = tpm::ParseSignature(evidence.signature);
  if (!signature.ok()) {
    verification.Fail(
        MakeReason(ReasonCode::kSignatureInvalid,
                   "signature is not a TPMT_SIGNATURE: " + signature.error().message));
    return;
  }
  Status verified = tpm::VerifySignature(verification.input.attestation_key.key.get(),
                                         evidence.attest, *signature);
  if (!verified.ok()) {
    verification.Fail(
        MakeReason(ReasonCode::kSignatureInvalid,
                   "the quote is not signed by this node's AK: " + verified.error().message));
  }
}

void CheckNonce(Verification& verification, const QuoteInfo& quote) {
  const VerificationInput& input = verification.input;
  const Bytes& claimed = input.evidence.nonce;
  if (!ConstantTimeEquals(quote.extra_data, claimed)) {
    verification.Fail(MakeReason(ReasonCode::kNonceMismatch,
                                 "the quote signs nonce " + HexEncode(quote.extra_data) +
                                     " but the evidence names " + HexEncode(claimed)));
  }
  if (input.expected_nonce) {
    verification.verdict.nonce_checked = true;
    if (!ConstantTimeEquals(quote.extra_data, *input.expected_nonce)) {
      verification.Fail(MakeReason(ReasonCode::kNonceMismatch,
                                   "the quote signs nonce " + HexEncode(quote.extra_data) +
                                       " but the challenge was " +
                                       HexEncode(*input.expected_nonce)));
    }
  } else if (!input.allow_unchecked_freshness) {
    verification.Fail(MakeReason(ReasonCode::kNonceNotChecked,
                                 "no challenge was given to compare the quote's nonce with, so "
                                 "nothing shows the quote is fresh rather than replayed"));
  }
}

void CheckPcrDigest(Verification& verification, const QuoteInfo& quote) {
  const Policy& policy = verification.input.policy;
  if (!SameSelection(quote.selection, policy.selection)) {
    verification.Fail(MakeReason(ReasonCode::kPcrDigestMismatch,
                                 "the quote covers " + quote.selection.ToString() +
                                     " but the policy asks for " + policy.selection.ToString()));
  }
  std::optional<std::uint16_t> algorithm = PcrDigestAlgorithm(quote.pcr_digest);
  if (!algorithm) {
    verification.Fail(MakeReason(ReasonCode::kPcrDigestMismatch,
                                 "the quote's pcrDigest has an unexpected size of " +
                                     std::to_string(quote.pcr_digest.size()) + " bytes"));
    return;
  }
  Result<Bytes> computed =
      tpm::PcrCompositeDigest(quote.selection, verification.input.evidence.pcrs, *algorithm);
  if (!computed.ok()) {
    verification.Fail(
        MakeReason(ReasonCode::kPcrDigestMismatch,
                   "the posted PCR values do not cover the quote: " + computed.error().message));
  } else if (*computed != quote.pcr_digest) {
    verification.Fail(MakeReason(ReasonCode::kPcrDigestMismatch,
                                 "the posted PCR values hash to " + HexEncode(*computed) +
                                     " but the quote's pcrDigest is " +
                                     HexEncode(quote.pcr_digest)));
  }
}

}  // namespace

const Bytes* Verification::Quoted(std::uint16_t bank, std::uint32_t pcr) const {
  auto bank_values = quoted.find(bank);
  if (bank_values == quoted.end()) return nullptr;
  auto value = bank_values->second.find(pcr);
  return value == bank_values->second.end() ? nullptr : &value->second;
}

void CheckQuote(Verification& verification) {
  const VerificationInput& input = verification.input;
  verification.verdict.ak_attributes_checked = input.attestation_key.public_area.has_value();
  Result<QuoteInfo> quote = ParseQuote(input.evidence.attest);
  if (!quote.ok()) {
    verification.Fail(MakeReason(ReasonCode::kAttestMalformed, quote.error().message));
  }
  CheckSignature(verification);
  if (quote.ok()) {
    CheckNonce(verification, *quote);
    CheckPcrDigest(verification, *quote);
    verification.selection = quote->selection;
    verification.verdict.quote = std::move(quote).value();
  } else {
    verification.selection = input.policy.selection;
  }
  for (const tpm::PcrBankSelection& bank : verification.selection.banks) {
    auto posted = input.evidence.pcrs.find(bank.hash_algorithm);
    if (posted == input.evidence.pcrs.end()) continue;
    for (std::uint32_t pcr : bank.indexes) {
      auto value = posted->second.find(pcr);
      if (value != posted->second.end()) {
        verification.quoted[bank.hash_algorithm][pcr] = value->second;
      }
    }
  }
}

void CheckClock(Verification& verification) {
  if (!verification.verdict.quote) return;
  const QuoteClock& now = verification.verdict.quote->clock;
  if (!now.safe) {
    verification.Fail(MakeReason(ReasonCode::kClockUnsafe,
                                 "the TPM reports its clock as not safe (it may have been rolled "
                                 "back after an unorderly shutdown)"));
  }
  if (!verification.input.previous_clock) return;
  const QuoteClock& before = *verification.input.previous_clock;
  auto counters = [](const QuoteClock& clock) {
    return "resetCount " + std::to_string(clock.reset_count) + ", restartCount " +
           std::to_string(clock.restart_count) + ", clock " + std::to_string(clock.clock);
  };
  bool rolled_back = now.reset_count < before.reset_count ||
                     (now.reset_count == before.reset_count &&
                      (now.restart_count < before.restart_count ||
                       (now.restart_count == before.restart_count && now.clock < before.clock)));
  if (rolled_back) {
    verification.Fail(MakeReason(ReasonCode::kClockRollback,
                                 "the TPM's counters went backwards: now " + counters(now) +
                                     ", last trusted quote " + counters(before)));
  } else if (now.reset_count > before.reset_count) {
    verification.Fail(MakeReason(ReasonCode::kRebooted,
                                 "the node rebooted since its last trusted quote (resetCount " +
                                     std::to_string(before.reset_count) + " -> " +
                                     std::to_string(now.reset_count) + ")"));
  }
}

}  // namespace internal

bool QuoteCheck::authenticated() const {
  return verdict_.nonce_checked && std::ranges::none_of(verdict_.reasons, [](const Reason& reason) {
           return reason.code == ReasonCode::kAttestMalformed ||
                  reason.code == ReasonCode::kSignatureInvalid ||
                  reason.code == ReasonCode::kNonceMismatch;
         });
}

QuoteCheck CheckQuoteFirst(const VerificationInput& input) {
  QuoteCheck checked;
  checked.input_ = &input;
  internal::Verification verification{input,        checked.verdict_, {}, {},   std::nullopt,
                                      std::nullopt, std::nullopt,     {}, false};
  internal::CheckQuote(verification);
  checked.selection_ = std::move(verification.selection);
  checked.quoted_ = std::move(verification.quoted);
  return checked;
}

Verdict VerifyEvidence(const VerificationInput& input, QuoteCheck checked) {
  if (checked.input_ != &input) return VerifyEvidence(input);
  Verdict verdict = std::move(checked.verdict_);
  internal::Verification verification{input,
                                      verdict,
                                      std::move(checked.selection_),
                                      std::move(checked.quoted_),
                                      std::nullopt,
                                      std::nullopt,
                                      std::nullopt,
                                      {},
                                      false};
  internal::CheckBootLog(verification);
  internal::CheckRuntimeLog(verification);
  internal::CheckPolicy(verification);
  internal::CheckClock(verification);
  verdict.trusted = std::ranges::all_of(
      verdict.reasons, [](const Reason& reason) { return IsInformational(reason.code); });
  return verdict;
}

Verdict VerifyEvidence(const VerificationInput& input) {
  return VerifyEvidence(input, CheckQuoteFirst(input));
}

namespace {

std::string FirmwareVersionText(std::uint64_t version) {
  char text[19];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(version));
  return text;
}

}  // namespace

Json VerdictToJson(const Verdict& verdict) {
  Json reasons = Json::array();
  for (const Reason& reason : verdict.reasons) reasons.push_back(ReasonToJson(reason));
  Json json = {{"trusted", verdict.trusted},
               {"nonce_checked", verdict.nonce_checked},
               {"ak_attributes_checked", verdict.ak_attributes_checked},
               {"reasons", reasons}};
  if (verdict.boot_facts) {
    const BootFacts& facts = *verdict.boot_facts;
    Json secure_boot = facts.secure_boot ? Json(*facts.secure_boot) : Json(nullptr);
    Json applications =
        facts.boot_applications ? Json(facts.boot_applications->size()) : Json(nullptr);
    json["boot_facts"] = {
        {"secure_boot", secure_boot},
        {"secure_boot_detail", facts.secure_boot_detail},
        {"uefi_variable_value_only_digests", facts.uefi_variable_value_only_quirk},
        {"boot_applications", applications}};
  }
  if (verdict.quote) {
    json["quote"] = {{"selection", verdict.quote->selection.ToString()},
                     {"reset_count", verdict.quote->clock.reset_count},
                     {"restart_count", verdict.quote->clock.restart_count},
                     {"clock", verdict.quote->clock.clock},
                     {"safe", verdict.quote->clock.safe},
                     // A TPM's 64-bit firmware version is often above 2^53,
                     // where JSON numbers stop being exact (I-JSON): hex text.
                     {"firmware_version", FirmwareVersionText(verdict.quote->firmware_version)}};
  }
  return json;
}

}  // namespace attest::verifier
