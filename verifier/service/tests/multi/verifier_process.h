// One `verifier serve --config FILE` subprocess for the multi-verifier
// tests: started, its port read from the line it prints, its stderr kept
// (and shown when a test fails), stopped with SIGTERM or killed with SIGKILL.
// Not thread-safe: the test's main thread owns it (the child dies with that
// thread, PR_SET_PDEATHSIG, so a crashed test leaves no verifier behind).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sys/types.h>

#include "attest/error.h"

namespace attest::service::test {

class VerifierProcess {
 public:
  // Runs `binary serve --config config_path` and waits (up to 30 s) for
  // "(port N)" on its stderr; an error with what it printed otherwise.
  static Result<std::unique_ptr<VerifierProcess>> Start(const std::string& binary,
                                                        const std::string& config_path);
  ~VerifierProcess();  // SIGKILL if still running
  VerifierProcess(const VerifierProcess&) = delete;
  VerifierProcess& operator=(const VerifierProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // True while the process has not exited (it is reaped if it has).
  bool Running();
  // SIGKILL, then reaps it: no drain, no shutdown, as a crash or an OOM kill.
  void Kill();
  // SIGTERM and waits; returns the exit status as waitpid reports it.
  int Terminate();
  // Everything it printed on stderr so far.
  std::string Output() const;

 private:
  VerifierProcess() = default;
  void Reap(int options);

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int exit_status_ = -1;
  mutable std::mutex output_mutex_;
  std::string output_;
  std::unique_ptr<std::thread> reader_;  // keeps the pipe drained
};

}  // namespace attest::service::test
