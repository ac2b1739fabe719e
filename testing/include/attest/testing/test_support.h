// Test helpers shared by every suite: temporary directories, real child
// processes (the tools the tests interoperate with), and a clock the test
// sets.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "attest/clock.h"

namespace attest::test {

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
  bool timed_out = false;  // killed after CommandOptions::timeout
};

// Long enough for swtpm_setup or a tpm2 tool under AddressSanitizer on a
// loaded machine, short enough that a hung child fails its test, by name,
// well before ctest's own timeout.
inline constexpr std::chrono::seconds kDefaultCommandTimeout{120};

struct CommandOptions {
  // Every member has an initializer, so designated initializers may skip any.
  std::string input = "";                               // fed on stdin
  std::optional<uid_t> as_uid = std::nullopt;           // drop to this uid/gid (tests run as root)
  std::map<std::string, std::string> environment = {};  // added to the inherited environment
  std::chrono::milliseconds timeout = kDefaultCommandTimeout;
};

inline CommandOptions WithEnvironment(std::map<std::string, std::string> environment) {
  CommandOptions options;
  options.environment = std::move(environment);
  return options;
}

// Runs `argv` (no shell) in its own process group and waits for it. A child
// still running after `options.timeout` is killed with its whole group, and
// the test fails naming the command (`timed_out` is then set).
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

// The seed for a test that draws random choices: ATTEST_TEST_SEED when set
// (a decimal number; anything else fails the test), else a fresh one. The
// seed is printed and recorded in the test's XML output either way, so a
// failure can be run again with the same choices.
std::uint32_t TestRandomSeed();

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

}  // namespace attest::test
