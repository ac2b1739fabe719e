#include "soundness_scenario.h"

#include <set>

namespace attest::verifier::test {

runtime::RuntimeEntry ScenarioFileEntry(const std::string& path, std::string_view content) {
  runtime::RuntimeEntry entry;
  entry.pcr = kScenarioRuntimePcr;
  entry.path = path;
  entry.kind = runtime::RuntimeKind::kFile;
  entry.sha256 = Sha256Of(AsBytes(content));
  entry.size = content.size();
  entry.time = "2026-12-05T10:00:00.000001Z";
  return entry;
}

runtime::RuntimeEntry GoodRunc() { return ScenarioFileEntry("/usr/bin/runc", "runc 1.1.12"); }
runtime::RuntimeEntry EvilRunc() {
  return ScenarioFileEntry("/usr/bin/runc", "runc with a backdoor");
}
runtime::RuntimeEntry GoodContainerd() {
  return ScenarioFileEntry("/usr/bin/containerd", "containerd 1.7");
}

runtime::RuntimeLog ScenarioRuntime(std::vector<runtime::RuntimeEntry> entries) {
  return runtime::RuntimeLog{kScenarioRuntimePcr, std::move(entries)};
}

runtime::RuntimeLog GoodRuntime() { return ScenarioRuntime({GoodRunc(), GoodContainerd()}); }

Policy GoodMachinePolicy() {
  Policy policy;
  policy.selection = tpm::ParsePcrSelection("sha256:0-7,15").value();
  policy.boot.secure_boot_required = true;
  policy.boot.allowed_boot_applications = std::set<Sha256Digest>{
      ImageDigest("shimx64.efi"), ImageDigest("grubx64.efi"), ImageDigest("vmlinuz")};
  policy.runtime.pcr = kScenarioRuntimePcr;
  policy.runtime.required_paths = {"/usr/bin/containerd", "/usr/bin/runc"};
  policy.runtime.allowed_digests = {GoodRunc().sha256, GoodContainerd().sha256};
  return policy;
}

Evidence QuoteNode(const EvidenceFactory& factory, const MeasuredNode& node,
                   const tpm::PcrSelection& selection, const Bytes& nonce) {
  return factory.Make(selection, node.boot.Serialize(), node.runtime, nonce, SafeClock());
}

}  // namespace attest::verifier::test
