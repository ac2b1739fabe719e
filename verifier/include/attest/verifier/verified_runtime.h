// What a verified runtime log established in one boot, which the service
// keeps per node so that the node may send only the entries after it (the
// runtime cursor, docs/protocol.md §6). Made only from a runtime log that
// replayed exactly to a quoted runtime PCR (Verdict::verified_runtime).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "attest/error.h"
#include "attest/json.h"
#include "attest/runtime/entry.h"
#include "attest/sha256.h"

namespace attest::verifier {

// What the service keeps per node at most; a longer log is not cached, and
// that node sends its runtime log in full.
inline constexpr std::size_t kMaxCachedRuntimeEntries = 4096;
inline constexpr std::size_t kMaxCachedRuntimeTextBytes =
    std::size_t{512} * 1024;  // paths, details

struct VerifiedRuntimeState {
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  std::uint32_t runtime_pcr = 15;
  // Where the replay of the runtime log started: the firmware's value of
  // the runtime PCR, and whether the boot log extends it.
  Sha256Digest firmware_value{};
  bool boot_log_extends_runtime_pcr = false;
  // Every entry the log measured, in order, with what a policy decides on
  // (kind, path, sha256) and the detail it shows; time and size are
  // dropped. An allowlist changes, so these are judged again under the
  // policy in force at every attestation, never taken as approved.
  std::vector<runtime::RuntimeEntry> entries;
  // The quoted runtime PCR: `entries` replayed from firmware_value.
  Sha256Digest pcr_value{};
};

// The sum of the sizes of the entries' paths and details (the bound above).
std::size_t RuntimeStateTextBytes(const std::vector<runtime::RuntimeEntry>& entries);

// For storage. Reading checks the bounds, each entry's kind and fields, and
// that the entries replay from firmware_value to pcr_value: kCorrupt naming
// the member otherwise.
Json VerifiedRuntimeStateToJson(const VerifiedRuntimeState& state);
Result<VerifiedRuntimeState> VerifiedRuntimeStateFromJson(const Json& json);

}  // namespace attest::verifier
