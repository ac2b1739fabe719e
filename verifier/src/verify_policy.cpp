// The policy checks (FORMAT.md §2): boot reference values and event rules,
// then the runtime files against the approved digests.
#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"

#include "verify_internal.h"

namespace attest::verifier::internal {
namespace {

void CheckBootValues(Verification& verification) {
  const BootPolicy& boot = verification.input.policy.boot;
  for (const auto& [bank, indexes] : boot.allowed_pcr_values) {
    for (const auto& [pcr, allowed] : indexes) {
      const Bytes* quoted = verification.Quoted(bank, pcr);
      if (quoted == nullptr) {
        verification.Fail(MakePcrReason(ReasonCode::kBootPolicyViolation, pcr,
                                        "the policy constrains PCR " + std::to_string(pcr) + " (" +
                                            tpm::AlgorithmName(bank) +
                                            ") but the quote does not cover it"));
        continue;
      }
      if (std::ranges::find(allowed, *quoted) != allowed.end()) continue;
      verification.Fail(MakePcrReason(ReasonCode::kBootPolicyViolation, pcr,
                                      "PCR " + std::to_string(pcr) + " (" +
                                          tpm::AlgorithmName(bank) + ") is " + HexEncode(*quoted) +
                                          ", none of the " + std::to_string(allowed.size()) +
                                          " values the policy allows"));
    }
  }
}

void CheckSecureBoot(Verification& verification, const BootFacts& facts) {
  if (facts.secure_boot == true) return;
  std::string detail;
  if (!facts.secure_boot) {
    detail = "secure boot state not established: " + facts.secure_boot_detail;
  } else {
    detail = "secure boot is disabled (the SecureBoot variable is 0 or absent)";
  }
  verification.Fail(MakePcrReason(ReasonCode::kBootPolicyViolation, 7, detail));
}

void CheckBootApplications(Verification& verification, const BootFacts& facts,
                           const std::set<Sha256Digest>& allowed) {
  if (!facts.boot_applications) {
    verification.Fail(MakePcrReason(ReasonCode::kBootPolicyViolation, 4,
                                    "boot applications not established: PCR 4 (sha256) is not "
                                    "verified, so none of its events can be checked"));
    return;
  }
  for (const BootApplication& application : *facts.boot_applications) {
    if (allowed.contains(application.digest)) continue;
    std::string name = application.device_path.empty() ? "" : " (" + application.device_path + ")";
    verification.Fail(MakeEventReason(ReasonCode::kBootPolicyViolation, application.index, 4,
                                      "PCR 4 extend " + HexEncode(AsBytes(application.digest)) +
                                          name + ", logged as " +
                                          std::string(EventTypeName(application.type)) +
                                          ", is not in the policy's allowed boot applications"));
  }
}

// Rules over events read only facts from verified extends (boot_facts.h).
void CheckBootEvents(Verification& verification) {
  const BootPolicy& boot = verification.input.policy.boot;
  bool has_rules = boot.secure_boot_required || boot.allowed_boot_applications.has_value();
  if (!has_rules) return;
  const std::optional<BootFacts>& facts = verification.verdict.boot_facts;
  if (!facts) {
    verification.Fail(MakeReason(ReasonCode::kBootPolicyViolation,
                                 "the policy has rules over boot events but there is no "
                                 "well-formed boot log to apply them to"));
    return;
  }
  if (boot.secure_boot_required) CheckSecureBoot(verification, *facts);
  if (boot.allowed_boot_applications) {
    CheckBootApplications(verification, *facts, *boot.allowed_boot_applications);
  }
}

// Every file the log shows has to be approved, including one that was
// replaced later: it ran, or could have, on this boot. A log sent from the
// cursor is judged whole: the verified entries before the cursor too, under today's allowlist (an
// approval may have been revoked since they were first seen).
void CheckRuntimeFiles(Verification& verification) {
  if (verification.runtime_unjudged) return;
  const RuntimePolicy& runtime = verification.input.policy.runtime;
  const std::optional<runtime::RuntimeLog>& log = verification.input.evidence.runtime_log;
  std::span<const runtime::RuntimeEntry> sent;
  if (log) sent = log->entries;
  // Views of the entries' paths: no copy of each path per verification.
  std::map<std::string_view, const runtime::RuntimeEntry*> latest;
  for (std::span<const runtime::RuntimeEntry> part : {verification.runtime_before_cursor, sent}) {
    for (const runtime::RuntimeEntry& entry : part) {
      latest[entry.path] = &entry;
      if (entry.kind == runtime::RuntimeKind::kFile) {
        if (!runtime.allowed_digests.contains(entry.sha256)) {
          verification.Fail(MakePathReason(ReasonCode::kRuntimeNotApproved, entry.path,
                                           entry.path + " has sha256 " +
                                               HexEncode(AsBytes(entry.sha256)) +
                                               ", which is not approved"));
        }
      } else if (entry.kind == runtime::RuntimeKind::kSaveFailed) {
        verification.Fail(MakePathReason(
            ReasonCode::kRuntimeNotApproved, entry.path,
            "attestd could not save its runtime log (the save-failed marker is in the PCR), so "
            "a measurement may be missing from the log: " +
                entry.detail));
      } else if (entry.kind != runtime::RuntimeKind::kMissing) {
        verification.Fail(MakePathReason(ReasonCode::kRuntimeNotApproved, entry.path,
                                         entry.path + " could not be measured (" +
                                             std::string(runtime::RuntimeKindName(entry.kind)) +
                                             ": " + entry.detail + ")"));
      }
    }
  }
  for (const std::string& path : runtime.required_paths) {
    auto found = latest.find(path);
    if (found == latest.end()) {
      verification.Fail(MakePathReason(ReasonCode::kRuntimeMissing, path,
                                       path + " is required but was never measured"));
    } else if (found->second->kind == runtime::RuntimeKind::kMissing) {
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
