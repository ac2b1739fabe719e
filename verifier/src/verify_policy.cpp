// The policy checks (DESIGN §5): boot reference values and event rules,
// then the runtime files against the approved digests.
#include <algorithm>
#include <map>
#include <string>

#include "attest/encoding.h"

#include "verify_internal.h"

namespace attest::verifier::internal {
namespace {

void CheckBootValues(Verification& verification) {
  const BootPolicy& boot = verification.input.policy->boot;
  for (const auto& [bank, indexes] : boot.allowed_pcr_values) {
    for (const auto& [pcr, allowed] : indexes) {
      const Bytes* quoted = verification.Quoted(bank, pcr);
      if (quoted == nullptr) {
        verification.Fail(MakePcrReason(ReasonCode::kBootPolicyViolation, pcr,
                                        "the policy constrains PCR " + std::to_string(pcr) + " (" +
                                            BankName(bank) + ") but the quote does not cover it"));
        continue;
      }
      if (std::ranges::find(allowed, *quoted) != allowed.end()) continue;
      verification.Fail(MakePcrReason(
          ReasonCode::kBootPolicyViolation, pcr,
          "PCR " + std::to_string(pcr) + " (" + BankName(bank) + ") is " + HexEncode(*quoted) +
              ", none of the " + std::to_string(allowed.size()) + " values the policy allows"));
    }
  }
}

void CheckBootEvents(Verification& verification) {
  const BootPolicy& boot = verification.input.policy->boot;
  bool has_rules = boot.secure_boot_required || boot.allowed_boot_applications.has_value();
  if (!has_rules) return;
  const std::optional<BootFacts>& facts = verification.verdict.boot_facts;
  if (!facts) {
    verification.Fail(MakeReason(ReasonCode::kBootPolicyViolation,
                                 "the policy has rules over boot events but there is no "
                                 "well-formed boot log to apply them to"));
    return;
  }
  if (boot.secure_boot_required && facts->secure_boot != true) {
    verification.Fail(MakePcrReason(ReasonCode::kBootPolicyViolation, 7,
                                    facts->secure_boot.has_value()
                                        ? "secure boot is disabled (SecureBoot variable is 0)"
                                        : "the boot log does not measure the SecureBoot variable"));
  }
  if (!boot.allowed_boot_applications) return;
  for (const BootApplication& application : facts->boot_applications) {
    auto sha256 = application.digests.find(TPM2_ALG_SHA256);
    Sha256Digest digest{};
    if (sha256 == application.digests.end() || sha256->second.size() != digest.size()) {
      verification.Fail(MakePcrReason(
          ReasonCode::kBootPolicyViolation, application.pcr,
          "boot application " + application.device_path + " has no sha256 digest to check"));
      continue;
    }
    std::copy(sha256->second.begin(), sha256->second.end(), digest.begin());
    if (!boot.allowed_boot_applications->contains(digest)) {
      std::string name =
          application.device_path.empty() ? "" : " (" + application.device_path + ")";
      verification.Fail(MakePcrReason(ReasonCode::kBootPolicyViolation, application.pcr,
                                      "boot application " + HexEncode(sha256->second) + name +
                                          " is not in the policy's allowed boot applications"));
    }
  }
}

// Every file the log shows has to be approved, including one that was
// replaced later: it ran, or could have, on this boot.
void CheckRuntimeFiles(Verification& verification) {
  const RuntimePolicy& runtime = verification.input.policy->runtime;
  const std::optional<RuntimeLog>& log = verification.input.evidence->runtime_log;
  std::map<std::string, const RuntimeEntry*> latest;
  if (log) {
    for (const RuntimeEntry& entry : log->entries) {
      latest[entry.path] = &entry;
      if (entry.kind == RuntimeKind::kFile) {
        if (!runtime.allowed_digests.contains(entry.sha256)) {
          verification.Fail(MakePathReason(ReasonCode::kRuntimeNotApproved, entry.path,
                                           entry.path + " has sha256 " +
                                               HexEncode(AsBytes(entry.sha256)) +
                                               ", which is not approved"));
        }
      } else if (entry.kind != RuntimeKind::kMissing) {
        verification.Fail(MakePathReason(ReasonCode::kRuntimeNotApproved, entry.path,
                                         entry.path + " could not be measured (" +
                                             std::string(RuntimeKindName(entry.kind)) + ": " +
                                             entry.detail + ")"));
      }
    }
  }
  for (const std::string& path : runtime.required_paths) {
    auto found = latest.find(path);
    if (found == latest.end()) {
      verification.Fail(MakePathReason(ReasonCode::kRuntimeMissing, path,
                                       path + " is required but was never measured"));
    } else if (found->second->kind == RuntimeKind::kMissing) {
      verification.Fail(
          MakePathReason(ReasonCode::kRuntimeMissing, path,
                         path + " is required but missing: " + found->second->detail));
    }
  }
}

}  // namespace

void CheckPolicy(Verification& verification) {
  CheckBootValues(verification);
  CheckBootEvents(verification);
  CheckRuntimeFiles(verification);
}

}  // namespace attest::verifier::internal
