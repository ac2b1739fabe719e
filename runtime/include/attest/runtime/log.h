// The runtime log: every runtime measurement event attestd extended into the
// runtime PCR since boot, in order, so a verifier can replay the PCR. Lives
// in /run (cleared at reboot, like the PCR). FORMAT.md §4 specifies the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attest/error.h"
#include "attest/json.h"
#include "attest/runtime/entry.h"

namespace attest::runtime {

inline constexpr std::string_view kDefaultRuntimeLogPath = "/run/attestd/runtime-log.json";
inline constexpr std::uint32_t kRuntimeLogVersion = 1;
// Far beyond any real log (an entry is ~300 bytes and appears only when a
// file changes); a bigger file is refused before it is read.
inline constexpr std::size_t kMaxRuntimeLogBytes = std::size_t{64} * 1024 * 1024;

// The log's content. The bank is always sha256. Entry i has seq i + 1.
struct RuntimeLog {
  std::uint32_t pcr = kDefaultRuntimePcr;
  std::vector<RuntimeEntry> entries;

  bool operator==(const RuntimeLog&) const = default;
};

// Checks what ParseRuntimeLog would check of an entry at 0-based `index`
// of a log for `pcr` (fields consistent with the kind, absolute UTF-8 path,
// RFC 3339 time), so nothing is logged that could not be loaded again.
// kInvalidArgument naming the index and field.
Status CheckRuntimeEntry(const RuntimeEntry& entry, std::uint32_t pcr, std::size_t index);

// The FORMAT.md §4 JSON text, one entry per line. Fails with
// kInvalidArgument for a log that breaks CheckRuntimeEntry or whose text
// would exceed `max_bytes` (kMaxRuntimeLogBytes unless a test sets a
// smaller cap). `skipped` > 0 writes the tail of a longer log that leaves
// out its first `skipped` entries (what a node sends from the verifier's
// cursor, verifier/FORMAT.md §1): entry i then has seq skipped + i + 1.
// A file always has skipped 0.
Result<std::string> SerializeRuntimeLog(const RuntimeLog& log,
                                        std::size_t max_bytes = kMaxRuntimeLogBytes,
                                        std::uint64_t skipped = 0);

// Strict parse of FORMAT.md §4: unknown fields and kinds, wrong types,
// out-of-order seq and an extend_digest that differs from the recomputed one
// are all kCorrupt, with a message that starts with `name` (the file) and
// names the entry index and field: "log.json: entries[2].seq: expected 3".
// A version other than 1 is kUnsupported.
Result<RuntimeLog> ParseRuntimeLog(std::string_view text, std::string_view name);
// The same checks on a document already parsed (strictly) as part of a
// bigger one, such as the verifier's evidence; `skipped` as for
// SerializeRuntimeLog (seq must count skipped + 1, skipped + 2, ...).
Result<RuntimeLog> ParseRuntimeLogJson(const Json& root, std::string_view name,
                                       std::uint64_t skipped = 0);

// Reads and parses `path`. kNotFound when it does not exist (no
// measurement yet since boot); kCorrupt as above, or for a file over
// kMaxRuntimeLogBytes or not a regular file.
Result<RuntimeLog> LoadRuntimeLog(const std::string& path);

// Replaces `path` atomically (readers and crashes see the old log or the
// new one), mode 0644: the log holds no secret and is what the verifier
// needs to see. Fails, leaving the file as it was, for a log over
// `max_bytes` or when the file system refuses (full, read-only, gone).
Status SaveRuntimeLog(const std::string& path, const RuntimeLog& log,
                      std::size_t max_bytes = kMaxRuntimeLogBytes);

}  // namespace attest::runtime
