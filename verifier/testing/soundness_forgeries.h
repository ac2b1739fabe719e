// The soundness suite's attacks (issue 10) as data: each one a node's real
// state, what a root attacker on it shows instead of the measured logs, and
// the exact reasons the verifier must give. The offline suite
// (verifier/tests/soundness_test.cpp) and the service's replay over HTTPS
// (verifier/service/tests/api/soundness_http_test.cpp) both run this list.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "attest/bytes.h"
#include "attest/runtime/log.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/policy.h"

#include "evidence_factory.h"
#include "soundness_scenario.h"
#include "synthetic_boot.h"

namespace attest::verifier::test {

// What the attacker sends in place of the measured logs.
struct Shown {
  SyntheticLog boot;
  runtime::RuntimeLog runtime;
};

struct Forgery {
  std::string name;
  // The node's real state; by default the good machine, good runtime.
  std::function<void(MeasuredNode&)> real = [](MeasuredNode&) {};
  // The rewrite of what the signature does not cover.
  std::function<void(Shown&)> rewrite = [](Shown&) {};
  std::vector<std::string> codes;  // exactly, in order; empty for an honest control
  std::function<void(Policy&)> policy_change = [](Policy&) {};
};

inline std::ostream& operator<<(std::ostream& out, const Forgery& forgery) {
  return out << forgery.name;
}

// Every case, honest controls first.
std::vector<Forgery> Forgeries();

// The policy a forgery is judged under: GoodMachinePolicy() with its change.
Policy ForgeryPolicy(const Forgery& forgery);

// The forged evidence: a quote (by `factory`, over `policy`'s selection and
// `nonce`) of what the node really measured, carrying the logs the attacker
// shows instead.
Evidence ForgeEvidence(const Forgery& forgery, const EvidenceFactory& factory, const Policy& policy,
                       const Bytes& nonce);

}  // namespace attest::verifier::test
