// attestd's log lines: stderr with the journald priority prefix ("<4>"),
// which systemd reads as the line's priority, and a problem log that
// reports a failure once when it starts or changes, not at every retry.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace attest::attestd {

enum class Priority { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6 };

class DaemonLog {
 public:
  explicit DaemonLog(std::ostream& out) : out_(&out) {}
  void Write(Priority priority, std::string_view message);

  // A step failed with `message`: logged (as a warning) only when it differs
  // from the last problem reported.
  void Problem(std::string_view message);
  // The step worked: says so once after a problem, then nothing.
  void Recovered(std::string_view message);
  bool in_trouble() const { return !last_problem_.empty(); }

 private:
  std::ostream* out_;
  std::string last_problem_;
};

}  // namespace attest::attestd
