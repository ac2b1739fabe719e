// The one RunCommand every suite uses: what it passes to the child and
// reports back, and that a child which hangs is killed, with whatever it
// started, and fails the test by name instead of stalling it.
#include "attest/testing/test_support.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace attest::test {
namespace {

using namespace std::chrono_literals;

// True once `pid` is gone or a zombie nobody has reaped yet (it no longer
// runs either way).
bool Ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const std::size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

TEST(RunCommand, PassesInputAndEnvironmentAndReportsOutputAndExitCode) {
  CommandOptions options;
  options.input = "from stdin\n";
  options.environment = {{"ATTEST_RUN_COMMAND_TEST", "from the environment"}};
  CommandResult result = RunCommand(
      {"sh", "-c", "cat; echo \"$ATTEST_RUN_COMMAND_TEST\"; echo oops >&2; exit 3"}, options);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "from stdin\nfrom the environment\n");
  EXPECT_EQ(result.err, "oops\n");
  EXPECT_FALSE(result.timed_out);
}

TEST(RunCommand, AProgramThatCannotRunExits127) {
  CommandResult result = RunCommand({"/nonexistent/attest-no-such-program"});
  EXPECT_EQ(result.exit_code, 127);
  EXPECT_FALSE(result.timed_out);
}

TEST(RunCommand, AKilledChildHasNoExitCode) {
  CommandResult result = RunCommand({"sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_FALSE(result.timed_out);
}

TEST(RunCommand, AHangingChildIsKilledWithItsChildrenAndTheTestFailsNamingIt) {
  CommandOptions options;
  options.timeout = 300ms;
  CommandResult result;
  const auto start = std::chrono::steady_clock::now();
  // The shell starts a grandchild, prints its pid, and waits for it.
  EXPECT_NONFATAL_FAILURE(
      result = RunCommand({"sh", "-c", "sleep 600 & echo $!; wait"}, options),
      "command killed after 300 ms without exiting: sh -c sleep 600 & echo $!; wait");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 10s);
  const pid_t grandchild = static_cast<pid_t>(std::stol(result.out));
  ASSERT_GT(grandchild, 0);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!Ended(grandchild) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(Ended(grandchild)) << "sleep " << grandchild << " survived its command's timeout";
}

TEST(RunCommand, ACommandThatFinishesInTimeIsNotKilled) {
  CommandOptions options;
  options.timeout = 5s;
  CommandResult result = RunCommand({"sh", "-c", "sleep 0.2; echo done"}, options);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "done\n");
  EXPECT_FALSE(result.timed_out);
}

TEST(TestRandomSeed, ATTEST_TEST_SEEDChoosesItAndNonsenseFails) {
  ASSERT_EQ(::setenv("ATTEST_TEST_SEED", "4000000000", 1), 0);
  EXPECT_EQ(TestRandomSeed(), 4000000000u);
  for (const char* bad : {"", "12x", "-1", "4294967296", " 7"}) {
    ASSERT_EQ(::setenv("ATTEST_TEST_SEED", bad, 1), 0);
    EXPECT_NONFATAL_FAILURE(TestRandomSeed(), "ATTEST_TEST_SEED=");
  }
  ASSERT_EQ(::unsetenv("ATTEST_TEST_SEED"), 0);
}

}  // namespace
}  // namespace attest::test
