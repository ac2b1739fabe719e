#include "attest/testing/test_support.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace attest::test {

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = ::testing::TempDir() + "/" + prefix + "_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
  ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& arg : argv) line += (line.empty() ? "" : " ") + arg;
  return line;
}

enum class WaitOutcome { kExited, kTimedOut, kLost };

// Waits until `pid` exits or `timeout` passes. A pidfd makes the wait exact;
// without one (kernels before 5.3) it polls.
WaitOutcome WaitWithTimeout(pid_t pid, std::chrono::milliseconds timeout, int& status) {
  using std::chrono::steady_clock;
  const auto deadline = steady_clock::now() + timeout;
  // The syscall itself: glibc 2.36's <sys/pidfd.h> is not usable from C++.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  auto pause = std::chrono::milliseconds(1);
  WaitOutcome outcome = WaitOutcome::kTimedOut;
  while (true) {
    const pid_t waited = ::waitpid(pid, &status, WNOHANG);
    if (waited == pid) {
      outcome = WaitOutcome::kExited;
      break;
    }
    if (waited < 0 && errno != EINTR) {
      outcome = WaitOutcome::kLost;
      break;
    }
    // Rounded up: a truncated 0 ms would call the timeout before it passed.
    const auto now = steady_clock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    if (pidfd >= 0) {
      pollfd ready{pidfd, POLLIN, 0};
      ::poll(&ready, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000)));
    } else {
      std::this_thread::sleep_for(std::min(pause, left));
      pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return outcome;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  TempDir io("command");
  const std::string in_path = io.File("stdin"), out_path = io.File("stdout"),
                    err_path = io.File("stderr");
  WriteText(in_path, options.input);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a timeout kills whatever it started too
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    for (const auto& [name, value] : options.environment) ::setenv(name.c_str(), value.c_str(), 1);
    // Drop root's supplementary groups too, or the "unprivileged" child
    // would still be in group root.
    if (options.as_uid && (::setgroups(0, nullptr) != 0 || ::setgid(*options.as_uid) != 0 ||
                           ::setuid(*options.as_uid) != 0)) {
      ::_exit(125);
    }
    // Set after setuid, which clears it: the child dies with the test.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(124);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  CommandResult result;
  if (pid < 0) {
    ADD_FAILURE() << "fork failed for: " << CommandLine(argv);
    return result;
  }
  ::setpgid(pid, pid);  // also here, so the group exists before any kill below
  int status = 0;
  switch (WaitWithTimeout(pid, options.timeout, status)) {
    case WaitOutcome::kExited:
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    case WaitOutcome::kTimedOut:
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.timed_out = true;
      ADD_FAILURE() << "command killed after " << options.timeout.count()
                    << " ms without exiting: " << CommandLine(argv);
      break;
    case WaitOutcome::kLost:
      ADD_FAILURE() << "waitpid failed (" << std::strerror(errno) << ") for: " << CommandLine(argv);
      break;
  }
  result.out = ReadText(out_path);
  result.err = ReadText(err_path);
  return result;
}

std::uint32_t TestRandomSeed() {
  std::uint32_t seed = std::random_device{}();
  const char* configured = std::getenv("ATTEST_TEST_SEED");
  if (configured != nullptr) {
    const std::string_view text(configured);
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seed);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      ADD_FAILURE() << "ATTEST_TEST_SEED=\"" << text << "\" is not a decimal number below 2^32";
    }
  }
  std::fprintf(stderr, "random seed %u (ATTEST_TEST_SEED=%u repeats this run)\n", seed, seed);
  ::testing::Test::RecordProperty("random_seed", std::to_string(seed));
  return seed;
}

std::string ReadText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace attest::test
