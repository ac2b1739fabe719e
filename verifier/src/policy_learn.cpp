#include "attest/verifier/policy_learn.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "attest/verifier/ima_log.h"
#include "attest/verifier/verify.h"

#include "verify_internal.h"

namespace attest::verifier {
namespace {

// Codes that only say the (empty) draft policy does not allow the node yet.
bool IsPolicyReason(ReasonCode code) {
  return code == ReasonCode::kBootPolicyViolation || code == ReasonCode::kRuntimeNotApproved ||
         code == ReasonCode::kRuntimeMissing || code == ReasonCode::kBootLogRuntimePcr ||
         IsInformational(code);
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
  // Facts are read from verified extends only, so PCR 7 (and sha256 PCR 4)
  // are in the selection whenever a fact exists.
  policy.boot.secure_boot_required = verdict.boot_facts->secure_boot == true;
  if (verdict.boot_facts->boot_applications) {
    std::set<Sha256Digest>& applications = policy.boot.allowed_boot_applications.emplace();
    for (const BootApplication& application : *verdict.boot_facts->boot_applications) {
      applications.insert(application.digest);
    }
  }
}

void LearnRuntime(const Verdict& verdict, const Evidence& evidence, Policy& policy) {
  // Pinned only when the firmware extends the runtime PCR at all: the
  // admin reviewing the draft sees the value and what it stands for.
  bool firmware_extends_runtime_pcr = std::ranges::any_of(
      verdict.reasons,
      [](const Reason& reason) { return reason.code == ReasonCode::kBootLogRuntimePcr; });
  if (firmware_extends_runtime_pcr && verdict.runtime_pcr_firmware_value) {
    policy.runtime.firmware_values.insert(*verdict.runtime_pcr_firmware_value);
  }
  if (!evidence.runtime_log) return;
  std::map<std::string, runtime::RuntimeKind> latest;
  for (const runtime::RuntimeEntry& entry : evidence.runtime_log->entries) {
    latest[entry.path] = entry.kind;
    if (entry.kind == runtime::RuntimeKind::kFile)
      policy.runtime.allowed_digests.insert(entry.sha256);
  }
  for (const auto& [path, kind] : latest) {
    if (kind == runtime::RuntimeKind::kFile) policy.runtime.required_paths.push_back(path);
  }
}

}  // namespace

Result<Policy> LearnPolicy(const Evidence& evidence, const AttestationKey& attestation_key) {
  Result<QuoteInfo> quote = ParseQuote(evidence.attest);
  if (!quote.ok()) return quote.error().WithContext("the evidence's quote");
  Policy draft;
  draft.selection = quote->selection;
  if (evidence.runtime_log) draft.runtime.pcr = evidence.runtime_log->pcr;
  VerificationInput input{evidence, attestation_key, draft, std::nullopt, std::nullopt};
  // A draft for an admin to review: the evidence need not be fresh.
  input.allow_unchecked_freshness = true;
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
  LearnRuntime(verdict, evidence, draft);
  // The draft must be a policy this verifier accepts (a resettable runtime
  // PCR, say, is not).
  Result<Policy> reparsed = ParsePolicy(PolicyToJson(draft).dump(), "the learned policy");
  if (!reparsed.ok()) return reparsed.error();
  return draft;
}

}  // namespace attest::verifier
