#include "attest/attestd/runtime_measurer.h"

#include <algorithm>
#include <utility>

#include "attest/attestd/runtime_patterns.h"
#include "attest/attestd/runtime_pending.h"

namespace attest::attestd {

RuntimeMeasurer::RuntimeMeasurer(std::vector<std::string> patterns, const Clock& clock,
                                 runtime::RuntimeLog log, RuntimeMeasurerOptions options)
    : patterns_(std::move(patterns)),
      clock_(&clock),
      log_(std::move(log)),
      options_(std::move(options)),
      hasher_(options_.hash) {
  for (std::size_t i = 0; i < log_.entries.size(); ++i) Remember(i);
}

Result<RuntimeMeasurer> RuntimeMeasurer::Create(std::vector<std::string> patterns,
                                                const Clock& clock, runtime::RuntimeLog log,
                                                RuntimeMeasurerOptions options) {
  for (const std::string& pattern : patterns) {
    ATTEST_RETURN_IF_ERROR(ValidateRuntimePattern(pattern));
  }
  if (options.pcr > runtime::kMaxRuntimePcr) {
    return MakeError(ErrorCode::kInvalidArgument, "runtime PCR " + std::to_string(options.pcr) +
                                                      " is out of range 0.." +
                                                      std::to_string(runtime::kMaxRuntimePcr));
  }
  if (log.pcr != options.pcr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the runtime log is for PCR " + std::to_string(log.pcr) + " but PCR " +
                         std::to_string(options.pcr) + " is configured");
  }
  for (std::size_t i = 0; i < log.entries.size(); ++i) {
    if (Status valid = runtime::CheckRuntimeEntry(log.entries[i], log.pcr, i); !valid.ok()) {
      return valid.error().WithContext("runtime log");
    }
  }
  return RuntimeMeasurer(std::move(patterns), clock, std::move(log), std::move(options));
}

void RuntimeMeasurer::Remember(std::size_t index) {
  // A save-failed marker measures no path: it must not stand in for the
  // last word on a file that happens to be measured at the same path.
  const runtime::RuntimeEntry& entry = log_.entries[index];
  if (entry.kind != runtime::RuntimeKind::kSaveFailed) last_entry_[entry.path] = index;
}

bool RuntimeMeasurer::IsNew(const runtime::RuntimeEntry& entry) const {
  auto last = last_entry_.find(entry.path);
  if (last == last_entry_.end()) return true;
  const runtime::RuntimeEntry& previous = log_.entries[last->second];
  // Exactly what the extend digest covers: a changed error text or size
  // alone is no new event.
  return previous.kind != entry.kind ||
         (entry.kind == runtime::RuntimeKind::kFile && previous.sha256 != entry.sha256);
}

Result<RuntimeMeasurement> RuntimeMeasurer::Measure() {
  ATTEST_ASSIGN_OR_RETURN(PatternExpansion expansion, ExpandRuntimePatterns(patterns_));
  RuntimeMeasurement result;
  result.warnings = std::move(expansion.warnings);
  std::vector<runtime::RuntimeEntry> measured;
  for (std::string& path : expansion.paths) {
    FileMeasurement file = hasher_.Hash(path);
    runtime::RuntimeEntry entry;
    entry.path = std::move(path);
    entry.kind = file.kind;
    entry.sha256 = file.sha256;
    entry.size = file.size;
    entry.detail = std::move(file.detail);
    measured.push_back(std::move(entry));
  }
  for (std::string& escaped : expansion.undecodable_paths) {
    runtime::RuntimeEntry entry;
    entry.path = std::move(escaped);
    entry.kind = runtime::RuntimeKind::kUnreadable;
    entry.detail =
        "the name is not valid UTF-8 (shown with bytes outside printable ASCII, and "
        "backslashes, as \\xNN); not hashed";
    measured.push_back(std::move(entry));
  }
  for (auto& [path, why] : expansion.unreadable_directories) {
    runtime::RuntimeEntry entry;
    entry.path = path;
    entry.kind = runtime::RuntimeKind::kUnreadable;
    entry.detail = std::move(why);
    measured.push_back(std::move(entry));
  }
  std::sort(measured.begin(), measured.end(),
            [](const runtime::RuntimeEntry& a, const runtime::RuntimeEntry& b) {
              return a.path < b.path;
            });
  for (runtime::RuntimeEntry& entry : measured) {
    entry.pcr = options_.pcr;
    entry.time = FormatRfc3339Utc(clock_->Now());
    if (IsNew(entry)) result.new_entries.push_back(std::move(entry));
  }
  return result;
}

Status RuntimeMeasurer::Append(runtime::RuntimeEntry entry) {
  ATTEST_RETURN_IF_ERROR(runtime::CheckRuntimeEntry(entry, log_.pcr, log_.entries.size()));
  log_.entries.push_back(std::move(entry));
  if (!options_.log_path.empty()) {
    // The marker goes first: a log holding an entry the PCR may lack
    // always has a marker naming it (runtime/FORMAT.md §4.2).
    const PendingExtend pending{log_.entries.size(),
                                runtime::RuntimeExtendDigest(log_.entries.back())};
    Status saved = SavePendingExtend(PendingExtendPath(options_.log_path), pending);
    if (saved.ok())
      saved = runtime::SaveRuntimeLog(options_.log_path, log_, options_.max_log_bytes);
    if (!saved.ok()) {
      log_.entries.pop_back();
      return saved;
    }
  }
  Remember(log_.entries.size() - 1);
  extend_pending_ = true;
  log_saved_ = true;
  return OkStatus();
}

Status RuntimeMeasurer::AppendUnsaved(runtime::RuntimeEntry entry) {
  ATTEST_RETURN_IF_ERROR(runtime::CheckRuntimeEntry(entry, log_.pcr, log_.entries.size()));
  log_.entries.push_back(std::move(entry));
  Remember(log_.entries.size() - 1);
  extend_pending_ = true;
  log_saved_ = options_.log_path.empty();
  return OkStatus();
}

Status RuntimeMeasurer::SaveLog() {
  if (!options_.log_path.empty()) {
    if (extend_pending_ && !log_.entries.empty()) {
      const PendingExtend pending{log_.entries.size(),
                                  runtime::RuntimeExtendDigest(log_.entries.back())};
      ATTEST_RETURN_IF_ERROR(SavePendingExtend(PendingExtendPath(options_.log_path), pending));
    }
    ATTEST_RETURN_IF_ERROR(
        runtime::SaveRuntimeLog(options_.log_path, log_, options_.max_log_bytes));
  }
  log_saved_ = true;
  return OkStatus();
}

Status RuntimeMeasurer::MarkExtended() {
  extend_pending_ = false;
  if (options_.log_path.empty()) return OkStatus();
  return RemovePendingExtend(PendingExtendPath(options_.log_path));
}

}  // namespace attest::attestd
