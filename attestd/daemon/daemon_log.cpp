#include "attest/attestd/daemon_log.h"

namespace attest::attestd {

void DaemonLog::Write(Priority priority, std::string_view message) {
  // One line per message: a newline inside would become a second journal
  // entry without a priority.
  std::string line = "<" + std::to_string(static_cast<int>(priority)) + ">";
  for (char ch : message) line += (ch == '\n' || ch == '\r') ? ' ' : ch;
  line += '\n';
  *out_ << line << std::flush;
}

void DaemonLog::Problem(std::string_view message) {
  if (message == last_problem_) return;
  last_problem_ = std::string(message);
  Write(Priority::kWarning, message);
}

void DaemonLog::Recovered(std::string_view message) {
  if (last_problem_.empty()) return;
  last_problem_.clear();
  Write(Priority::kNotice, message);
}

}  // namespace attest::attestd
