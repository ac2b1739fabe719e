// The pending-extend marker (runtime/FORMAT.md §4.2): a small file beside the
// runtime log saying "entry `seq` is in the log but may not be in the PCR
// yet". attestd writes it before it saves the entry, removes it once the
// extend is done, and, before appending anything new (and at start),
// finishes the extend it names, so a failed extend is retried instead of
// leaving a gap in the PCR's chain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/error.h"
#include "attest/sha256.h"

namespace attest::attestd {

struct PendingExtend {
  std::uint64_t seq = 0;         // the entry's seq in the log (1-based)
  Sha256Digest extend_digest{};  // that entry's extend digest (runtime/FORMAT.md §2)

  bool operator==(const PendingExtend&) const = default;
};

// "<log_path>.pending".
std::string PendingExtendPath(std::string_view log_path);

// The marker's text: {"version":1,"seq":N,"extend_digest":"<64 hex>"} and a
// newline.
std::string SerializePendingExtend(const PendingExtend& pending);
// Strict, like the log: anything else is kCorrupt naming `name` and the
// member.
Result<PendingExtend> ParsePendingExtend(std::string_view text, std::string_view name);

// nullopt when there is no marker (the usual case); kCorrupt for a file
// SavePendingExtend did not write.
Result<std::optional<PendingExtend>> LoadPendingExtend(const std::string& path);
// Atomic replacement, mode 0644.
Status SavePendingExtend(const std::string& path, const PendingExtend& pending);
// Removes the marker; one that is not there is no error.
Status RemovePendingExtend(const std::string& path);

}  // namespace attest::attestd
