// attestd's log lines: stderr with the journald priority prefix ("<4>"),
// which systemd reads as the line's priority, and problems reported once
// when they start or change, not at every retry.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>

namespace attest::attestd {

enum class Priority { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6 };

class DaemonLog {
 public:
  explicit DaemonLog(std::ostream& out) : out_(&out) {}
  // One line; control characters (a newline would start a journal entry
  // without a priority, an escape sequence would reach a terminal) become
  // spaces, and the line is cut at 4 KiB.
  void Write(Priority priority, std::string_view message);

  // A problem of one kind (`topic`: "cycle", "runtime measurement", ...)
  // is logged as a warning only when its message differs from the last of
  // that topic; topics do not reset each other.
  void Problem(std::string_view topic, std::string_view message);
  // The topic's problem is over: says so once, then nothing.
  void Recovered(std::string_view topic, std::string_view message);

 private:
  std::ostream* out_;
  std::map<std::string, std::string, std::less<>> last_problem_;  // topic -> message
};

// `text` with control characters replaced by spaces and cut at `limit`
// bytes: for what the verifier or a file name says, before it reaches a
// log line, a terminal or sd_notify.
std::string Printable(std::string_view text, std::size_t limit);

}  // namespace attest::attestd
