#include "attest/attestd/daemon_log.h"

namespace attest::attestd {

std::string Printable(std::string_view text, std::size_t limit) {
  std::string printable;
  printable.reserve(std::min(text.size(), limit));
  for (char ch : text.substr(0, limit)) {
    const auto byte = static_cast<unsigned char>(ch);
    printable += (byte < 0x20 || byte == 0x7f) ? ' ' : ch;
  }
  if (text.size() > limit) printable += "...";
  return printable;
}

void DaemonLog::Write(Priority priority, std::string_view message) {
  constexpr std::size_t kMaxLine = 4096;
  *out_ << "<" << static_cast<int>(priority) << ">" << Printable(message, kMaxLine) << "\n"
        << std::flush;
}

void DaemonLog::Problem(std::string_view topic, std::string_view message) {
  auto [entry, inserted] = last_problem_.try_emplace(std::string(topic), std::string(message));
  if (!inserted) {
    if (entry->second == message) return;
    entry->second = std::string(message);
  }
  Write(Priority::kWarning, message);
}

void DaemonLog::Recovered(std::string_view topic, std::string_view message) {
  auto entry = last_problem_.find(topic);
  if (entry == last_problem_.end()) return;
  last_problem_.erase(entry);
  Write(Priority::kNotice, message);
}

}  // namespace attest::attestd
