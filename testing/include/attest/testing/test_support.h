// Test helpers shared by every suite: temporary directories, real child
// processes (the tools the tests interoperate with), and a clock the test
// sets.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "attest/clock.h"

namespace attest::testing {

// A directory under the test temp dir (mode 0755, so an unprivileged child
// can reach files inside), removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "attest_test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when the process did not exit normally
  std::string out;
  std::string err;
};

struct CommandOptions {
  std::string input;                                    // fed on stdin
  std::optional<uid_t> as_uid;                          // drop to this uid/gid (tests run as root)
  std::map<std::string, std::string> environment = {};  // added to the inherited environment
};

inline CommandOptions WithEnvironment(std::map<std::string, std::string> environment) {
  CommandOptions options;
  options.environment = std::move(environment);
  return options;
}

// Runs `argv` (no shell) and waits for it.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

std::string ReadText(const std::string& path);
void WriteText(const std::string& path, const std::string& text);

// A clock that says what the test sets.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint now = TimePoint(std::chrono::seconds(1795000000))) : now_(now) {}
  TimePoint Now() const override { return now_; }
  void Advance(std::chrono::microseconds by) { now_ += by; }

 private:
  TimePoint now_;
};

}  // namespace attest::testing
