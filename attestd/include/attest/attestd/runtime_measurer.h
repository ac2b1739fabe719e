// The runtime measurement step of attestd (DESIGN §4): expands the
// configured patterns, hashes every file, and decides which results are new
// events for the append-only runtime log. Knows no TPM: the caller appends
// each new entry (Append, which saves the log) and then extends the PCR with
// RuntimeExtendDigest(entry), in that order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "attest/attestd/runtime_entry.h"
#include "attest/attestd/runtime_hash.h"
#include "attest/attestd/runtime_log.h"
#include "attest/clock.h"
#include "attest/error.h"

namespace attest {

struct RuntimeMeasurerOptions {
  std::uint32_t pcr = kDefaultRuntimePcr;
  // Where Append saves the log; empty keeps it in memory only (tests).
  std::string log_path = std::string(kDefaultRuntimeLogPath);
  HashOptions hash;
};

// What one Measure() pass found.
struct RuntimeMeasurement {
  // The events to append, in path order: a path seen for the first time, or
  // one whose kind or digest differs from its last entry in the log.
  std::vector<RuntimeEntry> new_entries;
  // Globs that matched nothing and the like (see PatternExpansion), for
  // the caller to log.
  std::vector<std::string> warnings;
};

// Holds the patterns, the clock and the current log. Not thread-safe.
class RuntimeMeasurer {
 public:
  // Validates every pattern (kInvalidArgument naming the first bad one) and
  // that `log` is for options.pcr and well-formed (kInvalidArgument).
  // `clock` must outlive the measurer.
  static Result<RuntimeMeasurer> Create(std::vector<std::string> patterns, const Clock& clock,
                                        RuntimeLog log, RuntimeMeasurerOptions options = {});

  // Measures every path now; does not change the log. An unchanged file
  // gives no entry; nor does a path that stopped matching a glob (the log
  // is append-only, and the last entry for it stays its last word). Fails
  // only if glob(3) runs out of memory.
  Result<RuntimeMeasurement> Measure();

  // Appends `entry` (from Measure) to the log and saves the whole log
  // atomically to options.log_path. On failure the log, in memory and on
  // disk, is as before, and the caller must not extend the PCR.
  Status Append(RuntimeEntry entry);

  const RuntimeLog& log() const { return log_; }
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  RuntimeMeasurer(std::vector<std::string> patterns, const Clock& clock, RuntimeLog log,
                  RuntimeMeasurerOptions options);

  // Whether `entry` says something the log's last entry for its path does not.
  bool IsNew(const RuntimeEntry& entry) const;

  std::vector<std::string> patterns_;
  const Clock* clock_;
  RuntimeLog log_;
  RuntimeMeasurerOptions options_;
  RuntimeFileHasher hasher_;
  std::unordered_map<std::string, std::size_t> last_entry_;  // path -> index in log_.entries
};

}  // namespace attest
