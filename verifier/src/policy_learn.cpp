#include "attest/verifier/policy_learn.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "attest/verifier/verify.h"

namespace attest::verifier {
namespace {

constexpr std::uint32_t kImaPcr = 10;

// Codes that only say the (empty) draft policy does not allow the node yet.
bool IsPolicyReason(ReasonCode code) {
  return code == ReasonCode::kBootPolicyViolation || code == ReasonCode::kRuntimeNotApproved ||
         code == ReasonCode::kRuntimeMissing || IsInformational(code);
}

void LearnBoot(const Verdict& verdict, const Evidence& evidence, Policy& policy) {
  for (const tpm::PcrBankSelection& bank : policy.selection.banks) {
    auto posted = evidence.pcrs.find(bank.hash_algorithm);
    if (posted == evidence.pcrs.end()) continue;
    for (std::uint32_t pcr : bank.indexes) {
      if (pcr == policy.runtime.pcr || pcr == kImaPcr) continue;
      auto value = posted->second.find(pcr);
      if (value == posted->second.end()) continue;
      policy.boot.allowed_pcr_values[bank.hash_algorithm][pcr] = {value->second};
    }
  }
  if (!verdict.boot_facts) return;
  policy.boot.secure_boot_required = verdict.boot_facts->secure_boot == true;
  std::set<Sha256Digest> applications;
  for (const BootApplication& application : verdict.boot_facts->boot_applications) {
    auto sha256 = application.digests.find(TPM2_ALG_SHA256);
    Sha256Digest digest{};
    if (sha256 == application.digests.end() || sha256->second.size() != digest.size()) continue;
    std::copy(sha256->second.begin(), sha256->second.end(), digest.begin());
    applications.insert(digest);
  }
  if (!applications.empty()) policy.boot.allowed_boot_applications = std::move(applications);
}

void LearnRuntime(const Evidence& evidence, Policy& policy) {
  if (!evidence.runtime_log) return;
  std::map<std::string, RuntimeKind> latest;
  for (const RuntimeEntry& entry : evidence.runtime_log->entries) {
    latest[entry.path] = entry.kind;
    if (entry.kind == RuntimeKind::kFile) policy.runtime.allowed_digests.insert(entry.sha256);
  }
  for (const auto& [path, kind] : latest) {
    if (kind == RuntimeKind::kFile) policy.runtime.required_paths.push_back(path);
  }
}

}  // namespace

Result<Policy> LearnPolicy(const Evidence& evidence, const AttestationKey& attestation_key) {
  Result<QuoteInfo> quote = ParseQuote(evidence.attest);
  if (!quote.ok()) return quote.error().WithContext("the evidence's quote");
  Policy draft;
  draft.selection = quote->selection;
  if (evidence.runtime_log) draft.runtime.pcr = evidence.runtime_log->pcr;
  VerificationInput input{&evidence, &attestation_key, &draft, std::nullopt, std::nullopt};
  Verdict verdict = VerifyEvidence(input);
  std::string problems;
  for (const Reason& reason : verdict.reasons) {
    if (IsPolicyReason(reason.code)) continue;
    problems += "\n  " + std::string(ReasonCodeName(reason.code)) + ": " + reason.detail;
  }
  if (!problems.empty()) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "the evidence does not verify on its own, so no policy can be learned "
                     "from it:" +
                         problems);
  }
  LearnBoot(verdict, evidence, draft);
  LearnRuntime(evidence, draft);
  return draft;
}

}  // namespace attest::verifier
