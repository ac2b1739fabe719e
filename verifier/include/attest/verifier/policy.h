// The attestation policy (DESIGN §5): which PCRs a node quotes, the boot
// state it may be in, and the runtime files it may run. Allowed runtime
// digests are listed in the policy itself; the signer's ledger approvals
// (signer/approvals.h) are not read by the verifier yet, which the REST
// service will do.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/json.h"
#include "attest/sha256.h"
#include "attest/tpm/pcr.h"

namespace attest::verifier {

inline constexpr std::uint32_t kPolicyVersion = 1;

struct BootPolicy {
  // bank -> PCR -> the values the PCR may have (any one of them).
  std::map<std::uint16_t, std::map<std::uint32_t, std::vector<Bytes>>> allowed_pcr_values;
  // Needs PCR 7 in the selection.
  bool secure_boot_required = false;
  // sha256 digests of every PCR 4 extend but separators and action strings
  // (boot_facts.h); needs sha256 PCR 4 in the selection. nullopt means no
  // rule, an empty set allows none.
  std::optional<std::set<Sha256Digest>> allowed_boot_applications;
};

struct RuntimePolicy {
  std::uint32_t pcr = 15;
  // PCRs 16 and 23 can be reset from software (a root attacker would reset
  // and replay a clean log): refused unless this is set.
  bool allow_resettable_pcr = false;
  std::vector<std::string> required_paths;
  std::set<Sha256Digest> allowed_digests;
  // The values the boot log's events for the runtime PCR may replay to.
  // Empty: a boot log that extends the runtime PCR is refused.
  std::set<Sha256Digest> firmware_values;
};

struct Policy {
  std::string name;
  // Increases with every signed policy the service applies (PUT /v1/policy
  // refuses one not above the current: no rollback). 0 when absent.
  std::uint64_t serial = 0;
  tpm::PcrSelection selection;  // what the node must quote, in this order
  BootPolicy boot;
  RuntimePolicy runtime;
  std::uint64_t certificate_lifetime_seconds = 3600;
  std::string trust_domain;
  std::uint64_t attestation_interval_seconds = 60;
  std::uint64_t nonce_lifetime_seconds = 30;
};

// Strict, like every document here: unknown members, a PCR outside the
// selection, a rule that needs a PCR or bank the selection lacks, malformed
// hex are kCorrupt naming the member, after `name` (the file). A version
// other than 1 is kUnsupported.
Result<Policy> ParsePolicy(std::string_view text, std::string_view name);
Json PolicyToJson(const Policy& policy);

}  // namespace attest::verifier
