// The node the soundness suite and the soundness fuzzer attack: a good
// UEFI machine (Secure Boot on, shim, grub and a kernel), its runtime files,
// the policy that admits exactly it, and evidence for what a node really
// measured, signed the way its TPM would sign it.
#pragma once

#include <string>
#include <vector>

#include "attest/runtime/log.h"
#include "attest/verifier/policy.h"

#include "evidence_factory.h"
#include "synthetic_boot.h"

namespace attest::verifier::test {

inline constexpr std::uint32_t kScenarioRuntimePcr = 15;

runtime::RuntimeEntry ScenarioFileEntry(const std::string& path, std::string_view content);
runtime::RuntimeEntry GoodRunc();
runtime::RuntimeEntry EvilRunc();  // not approved
runtime::RuntimeEntry GoodContainerd();
runtime::RuntimeLog ScenarioRuntime(std::vector<runtime::RuntimeEntry> entries);

// Secure Boot required, the good machine's three boot applications, its
// runtime files required and approved; quoting sha256:0-7,15. No PCR value
// is pinned, so the event rules are what decide.
Policy GoodMachinePolicy();

// The good machine's runtime log: runc, then containerd.
runtime::RuntimeLog GoodRuntime();

// What the node really did: its boot as measured (with whatever root
// extended after boot) and attestd's runtime log as measured.
struct MeasuredNode {
  SyntheticLog boot = UefiBoot({});
  runtime::RuntimeLog runtime = GoodRuntime();
};

// Evidence whose quote covers what `node` measured (selection and nonce
// as given); the caller then replaces the logs with what the attacker shows.
Evidence QuoteNode(const EvidenceFactory& factory, const MeasuredNode& node,
                   const tpm::PcrSelection& selection, const Bytes& nonce);

}  // namespace attest::verifier::test
