// The `verifier` binary: `init` prints one admin token and refuses a used
// directory; `serve` answers over HTTPS and exits 0 on SIGTERM after
// draining; `token create` makes a token the running server accepts.
#include <fstream>

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/http/client.h"
#include "attest/testing/test_support.h"

namespace attest::service::test {
namespace {

class ServeTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Starts `verifier serve` and returns the port it printed.
  int StartServe(const std::string& config) {
    int pipe_fds[2];
    EXPECT_EQ(::pipe(pipe_fds), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(pipe_fds[1], 2);
      ::close(pipe_fds[0]);
      ::execl(VERIFIER_BINARY, "verifier", "serve", "--config", config.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{pipe_fds[0], POLLIN, 0};
      if (::poll(&fd, 1, 500) <= 0) continue;
      char buffer[512];
      ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
      if (got <= 0) break;
      output.append(buffer, static_cast<std::size_t>(got));
      std::size_t at = output.find("(port ");
      if (at != std::string::npos && output.find(')', at) != std::string::npos) {
        stderr_fd_ = pipe_fds[0];
        return std::stoi(output.substr(at + 6));
      }
    }
    ADD_FAILURE() << "verifier serve did not start: " << output;
    return 0;
  }

  attest::test::TempDir dir_{"serve_test"};
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
};

TEST_F(ServeTest, InitServeAndStopOnSigterm) {
  const std::string state = dir_.File("state");
  auto init = attest::test::RunCommand({VERIFIER_BINARY, "init", "--state-dir", state});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ASSERT_TRUE(init.out.starts_with("vt_")) << init.out;
  EXPECT_EQ(init.out.find('\n'), init.out.size() - 1) << "one line, the token";
  const std::string admin = init.out.substr(0, init.out.size() - 1);
  auto again = attest::test::RunCommand({VERIFIER_BINARY, "init", "--state-dir", state});
  EXPECT_EQ(again.exit_code, 2);

  auto reader = attest::test::RunCommand(
      {VERIFIER_BINARY, "token", "create", "--state-dir", state, "--role", "reader"});
  ASSERT_EQ(reader.exit_code, 0) << reader.err;
  const std::string reader_token = reader.out.substr(0, reader.out.size() - 1);

  const std::string config = dir_.File("verifier.toml");
  std::ofstream(config) << "listen = \"127.0.0.1:0\"\nstate_dir = \"" << state << "\"\n";
  int port = StartServe(config);
  ASSERT_GT(port, 0);
  http::ClientOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.ca_bundle_path = state + "/ca.pem";
  auto client = http::Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.error().ToString();
  auto health = (*client)->Get("/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  for (const std::string& token : {admin, reader_token}) {
    auto nodes = (*client)->Get("/v1/nodes", {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(nodes.ok());
    EXPECT_EQ(nodes->status, 200) << nodes->body;
  }
  client->reset();

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace attest::service::test
