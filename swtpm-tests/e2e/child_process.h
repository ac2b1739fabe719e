// A long-running child process of an end-to-end test (`verifier serve`,
// `attestd run`): started without a shell in its own process group, its
// stdout and stderr appended to a log file, killed with its group however the
// test ends (and by the kernel if the test process dies first).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "attest/error.h"

namespace attest::test {

class ChildProcess {
 public:
  // `environment` is added to the inherited one.
  static Result<ChildProcess> Start(const std::vector<std::string>& argv,
                                    const std::string& log_path,
                                    const std::map<std::string, std::string>& environment = {});
  ChildProcess() = default;
  ~ChildProcess() { Kill(); }
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Sends `signal` to the process (not its group: the daemon decides).
  void Signal(int signal) const;
  // Waits up to `timeout` for it to exit; its exit code (-1 when it died by a
  // signal), or nullopt when it is still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL to the group, then reaps it. Nothing when it is not running.
  void Kill();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

}  // namespace attest::test
