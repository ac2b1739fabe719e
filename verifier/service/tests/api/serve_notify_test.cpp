// `verifier serve` under systemd Type=notify, without systemd: the test binds
// the NOTIFY_SOCKET itself. READY=1 comes once the port answers, STOPPING=1
// on SIGTERM, each with a STATUS line; a refused configuration sends nothing.
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/http/client.h"
#include "attest/testing/test_support.h"

extern char** environ;

namespace attest::service::test {
namespace {

// A datagram socket in the test's directory, as systemd's NOTIFY_SOCKET is.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0)
        << std::strerror(errno);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }

  // The next message, or "" when none comes within `timeout`.
  std::string Receive(std::chrono::milliseconds timeout) {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buffer[4096];
    ssize_t got = ::recv(fd_, buffer, sizeof(buffer), 0);
    return got > 0 ? std::string(buffer, static_cast<std::size_t>(got)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// The lines of a notification ("READY=1\nSTATUS=...").
std::vector<std::string> Lines(const std::string& message) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    lines.push_back(message.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

class ServeNotifyTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Starts `verifier serve` with NOTIFY_SOCKET naming `socket`.
  void StartServe(const std::string& config, const NotifySocket& socket) {
    std::vector<std::string> environment;
    for (char** variable = environ; *variable != nullptr; ++variable) {
      if (std::strncmp(*variable, "NOTIFY_SOCKET=", 14) != 0) environment.emplace_back(*variable);
    }
    environment.push_back("NOTIFY_SOCKET=" + socket.path());
    std::vector<char*> envp;
    for (std::string& variable : environment) envp.push_back(variable.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execle(VERIFIER_BINARY, "verifier", "serve", "--config", config.c_str(), nullptr,
               envp.data());
      ::_exit(127);
    }
    ASSERT_GT(pid_, 0);
  }

  int WaitForExit() {
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  attest::test::TempDir dir_{"serve_notify_test"};
  pid_t pid_ = -1;
};

TEST_F(ServeNotifyTest, ReadyOnceServingThenStoppingOnSigterm) {
  const std::string state = dir_.File("state");
  auto init = attest::test::RunCommand({VERIFIER_BINARY, "init", "--state-dir", state});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const std::string config = dir_.File("verifier.toml");
  std::ofstream(config) << "listen = \"127.0.0.1:0\"\nstate_dir = \"" << state << "\"\n";
  NotifySocket socket(dir_.File("notify.sock"));
  StartServe(config, socket);

  const std::string ready = socket.Receive(std::chrono::seconds(30));
  std::vector<std::string> lines = Lines(ready);
  ASSERT_EQ(lines.size(), 2u) << ready;
  EXPECT_EQ(lines[0], "READY=1");
  const std::string status_prefix = "STATUS=serving on 127.0.0.1:0 (port ";
  ASSERT_TRUE(lines[1].starts_with(status_prefix)) << lines[1];
  const int port = std::stoi(lines[1].substr(status_prefix.size()));
  ASSERT_GT(port, 0);
  // SQLite storage and no limits.threads: 2 (ServingThreads), and said so.
  EXPECT_TRUE(lines[1].ends_with("), 2 threads")) << lines[1];

  // Ready means serving: the port answers as soon as READY=1 is read.
  http::ClientOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.ca_bundle_path = state + "/ca.pem";
  auto client = http::Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.error().ToString();
  auto health = (*client)->Get("/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  client->reset();
  EXPECT_EQ(socket.Receive(std::chrono::milliseconds(0)), "") << "one READY, nothing more";

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  const std::string stopping = socket.Receive(std::chrono::seconds(30));
  EXPECT_EQ(Lines(stopping),
            (std::vector<std::string>{"STOPPING=1", "STATUS=SIGTERM: draining connections"}));
  EXPECT_EQ(WaitForExit(), 0);
}

TEST_F(ServeNotifyTest, RefusedConfigurationNeverSignalsReady) {
  const std::string config = dir_.File("verifier.toml");
  std::ofstream(config) << "listen = \"127.0.0.1:0\"\nstate_dir = \"" << dir_.File("missing")
                        << "\"\n";
  NotifySocket socket(dir_.File("notify.sock"));
  StartServe(config, socket);
  EXPECT_NE(WaitForExit(), 0);
  // It has exited: anything it sent is already queued.
  EXPECT_EQ(socket.Receive(std::chrono::milliseconds(0)), "");
}

}  // namespace
}  // namespace attest::service::test
