#include "attest/attestd/runtime_measurer.h"

#include <utility>

#include "attest/attestd/runtime_patterns.h"

namespace attest {

RuntimeMeasurer::RuntimeMeasurer(std::vector<std::string> patterns, const Clock& clock,
                                 RuntimeLog log, RuntimeMeasurerOptions options)
    : patterns_(std::move(patterns)),
      clock_(&clock),
      log_(std::move(log)),
      options_(std::move(options)),
      hasher_(options_.hash) {
  for (std::size_t i = 0; i < log_.entries.size(); ++i) last_entry_[log_.entries[i].path] = i;
}

Result<RuntimeMeasurer> RuntimeMeasurer::Create(std::vector<std::string> patterns,
                                                const Clock& clock, RuntimeLog log,
                                                RuntimeMeasurerOptions options) {
  for (const std::string& pattern : patterns) {
    ATTEST_RETURN_IF_ERROR(ValidateRuntimePattern(pattern));
  }
  if (options.pcr > kMaxRuntimePcr) {
    return MakeError(ErrorCode::kInvalidArgument, "runtime PCR " + std::to_string(options.pcr) +
                                                      " is out of range 0.." +
                                                      std::to_string(kMaxRuntimePcr));
  }
  if (log.pcr != options.pcr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the runtime log is for PCR " + std::to_string(log.pcr) + " but PCR " +
                         std::to_string(options.pcr) + " is configured");
  }
  for (std::size_t i = 0; i < log.entries.size(); ++i) {
    if (Status valid = CheckRuntimeEntry(log.entries[i], log.pcr, i); !valid.ok()) {
      return valid.error().WithContext("runtime log");
    }
  }
  return RuntimeMeasurer(std::move(patterns), clock, std::move(log), std::move(options));
}

bool RuntimeMeasurer::IsNew(const RuntimeEntry& entry) const {
  auto last = last_entry_.find(entry.path);
  if (last == last_entry_.end()) return true;
  const RuntimeEntry& previous = log_.entries[last->second];
  // Exactly what the extend digest covers: a changed error text or size
  // alone is no new event.
  return previous.kind != entry.kind ||
         (entry.kind == RuntimeKind::kFile && previous.sha256 != entry.sha256);
}

Result<RuntimeMeasurement> RuntimeMeasurer::Measure() {
  ATTEST_ASSIGN_OR_RETURN(PatternExpansion expansion, ExpandRuntimePatterns(patterns_));
  RuntimeMeasurement result;
  result.warnings = std::move(expansion.warnings);
  for (std::string& path : expansion.paths) {
    FileMeasurement measured = hasher_.Hash(path);
    RuntimeEntry entry;
    entry.pcr = options_.pcr;
    entry.path = std::move(path);
    entry.kind = measured.kind;
    entry.sha256 = measured.sha256;
    entry.size = measured.size;
    entry.detail = std::move(measured.detail);
    entry.time = FormatRfc3339Utc(clock_->Now());
    if (IsNew(entry)) result.new_entries.push_back(std::move(entry));
  }
  return result;
}

Status RuntimeMeasurer::Append(RuntimeEntry entry) {
  ATTEST_RETURN_IF_ERROR(CheckRuntimeEntry(entry, log_.pcr, log_.entries.size()));
  log_.entries.push_back(std::move(entry));
  if (!options_.log_path.empty()) {
    if (Status saved = SaveRuntimeLog(options_.log_path, log_); !saved.ok()) {
      log_.entries.pop_back();
      return saved;
    }
  }
  last_entry_[log_.entries.back().path] = log_.entries.size() - 1;
  return OkStatus();
}

}  // namespace attest
