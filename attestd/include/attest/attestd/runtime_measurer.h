// The runtime measurement step of attestd (DESIGN §4): expands the
// configured patterns, hashes every file, decides which results are new
// events for the append-only runtime log, and keeps that log (in memory and
// in its file, with the pending-extend marker beside it). Knows no TPM:
// RuntimeMeasurements (runtime_pcr.h) appends each new entry here and then
// extends the PCR, in that order, and calls MarkExtended.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "attest/attestd/runtime_hash.h"
#include "attest/clock.h"
#include "attest/error.h"
#include "attest/runtime/entry.h"
#include "attest/runtime/log.h"

namespace attest::attestd {

struct RuntimeMeasurerOptions {
  std::uint32_t pcr = runtime::kDefaultRuntimePcr;
  // Where the log is saved (and its pending-extend marker, with ".pending"
  // added); empty keeps everything in memory only (tests).
  std::string log_path = std::string(runtime::kDefaultRuntimeLogPath);
  // The size cap of the saved log (kMaxRuntimeLogBytes; tests lower it to
  // make a save fail for real).
  std::size_t max_log_bytes = runtime::kMaxRuntimeLogBytes;
  HashOptions hash;
};

// What one Measure() pass found.
struct RuntimeMeasurement {
  // The events to append, in path order: a path seen for the first time, or
  // one whose kind or digest differs from its last entry in the log.
  std::vector<runtime::RuntimeEntry> new_entries;
  // Globs that matched nothing and the like (see PatternExpansion), for
  // the caller to log.
  std::vector<std::string> warnings;
};

// Holds the patterns, the clock and the current log. Not thread-safe.
class RuntimeMeasurer {
 public:
  // Validates every pattern (kInvalidArgument naming the first bad one) and
  // that `log` is for options.pcr and well-formed (kInvalidArgument).
  // `clock` must outlive the measurer. `log` is taken as saved and fully
  // extended: resolving a pending extend is the caller's job.
  static Result<RuntimeMeasurer> Create(std::vector<std::string> patterns, const Clock& clock,
                                        runtime::RuntimeLog log,
                                        RuntimeMeasurerOptions options = {});

  // Measures every path now; does not change the log. An unchanged file
  // gives no entry; nor does a path that stopped matching a glob (the log
  // is append-only, and the last entry for it stays its last word). A glob
  // match whose name is not UTF-8 gives an `unreadable` entry with the
  // escaped name as its path. Fails only if glob(3) runs out of memory.
  Result<RuntimeMeasurement> Measure();

  // Appends `entry` (from Measure) to the log and, with a log path, writes
  // the pending-extend marker for it and then saves the whole log (any
  // entry added by AppendUnsaved included) atomically. On failure the log,
  // in memory and on disk, is as before (a marker written for it names a
  // seq the log does not have, which Start ignores), and the caller must
  // not extend the entry. On success extend_pending() is true.
  Status Append(runtime::RuntimeEntry entry);

  // Appends `entry` (a save-failed marker) to the log in memory only, when
  // the file cannot be written: log_saved() is false until a later
  // SaveLog or Append succeeds. extend_pending() is true.
  Status AppendUnsaved(runtime::RuntimeEntry entry);

  // Saves the log as it is in memory (after AppendUnsaved).
  Status SaveLog();

  // The last entry is now in the PCR: clears extend_pending() and removes
  // the pending-extend marker. A marker that cannot be removed is reported
  // but harmless: at start it names an entry the PCR already holds.
  Status MarkExtended();

  const runtime::RuntimeLog& log() const { return log_; }
  const std::vector<std::string>& patterns() const { return patterns_; }
  const RuntimeMeasurerOptions& options() const { return options_; }
  // Whether the log's last entry may be missing from the PCR.
  bool extend_pending() const { return extend_pending_; }
  // Whether the log file holds everything the log in memory does.
  bool log_saved() const { return log_saved_; }

 private:
  RuntimeMeasurer(std::vector<std::string> patterns, const Clock& clock, runtime::RuntimeLog log,
                  RuntimeMeasurerOptions options);

  // Whether `entry` says something the log's last entry for its path does not.
  bool IsNew(const runtime::RuntimeEntry& entry) const;
  void Remember(std::size_t index);

  std::vector<std::string> patterns_;
  const Clock* clock_;
  runtime::RuntimeLog log_;
  RuntimeMeasurerOptions options_;
  RuntimeFileHasher hasher_;
  std::unordered_map<std::string, std::size_t> last_entry_;  // path -> index in log_.entries
  bool extend_pending_ = false;
  bool log_saved_ = true;
};

}  // namespace attest::attestd
