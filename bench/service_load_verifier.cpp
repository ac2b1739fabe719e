#include "service_load_verifier.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

namespace attest::bench {
namespace {

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "service_load: %s\n", message.c_str());
  std::exit(1);
}

void WriteToml(const service::ServiceConfig& config, const std::string& path) {
  std::ofstream toml(path);
  toml << "listen = \"" << config.listen << "\"\n"
       << "state_dir = \"" << config.state_dir << "\"\n";
  if (!config.storage.empty()) toml << "storage = \"" << config.storage << "\"\n";
  toml << "[enrollment]\nek_allowlist = \"" << config.ek_allowlist.value_or("") << "\"\n"
       << "[policy]\nfile = \"" << config.policy_file.value_or("") << "\"\n"
       << "[limits]\n";
  if (config.threads) toml << "threads = " << *config.threads << "\n";
  toml << "max_connections = " << config.max_connections << "\n"
       << "max_connections_per_address = " << config.max_connections_per_address << "\n"
       << "rate_per_second = " << static_cast<long>(config.rate_limit.per_second) << "\n"
       << "rate_burst = " << static_cast<long>(config.rate_limit.burst) << "\n";
  if (!toml) Fail("cannot write " + path);
}

}  // namespace

VerifierUnderTest VerifierUnderTest::InProcess(const service::ServiceConfig& config,
                                               const Clock& clock) {
  VerifierUnderTest verifier;
  auto opened = service::Service::Open(config, clock);
  if (!opened.ok()) Fail("Service::Open: " + opened.error().ToString());
  verifier.service_ = std::move(opened).value();
  http::ServerOptions options = service::ServerOptionsFor(config, *verifier.service_);
  service::Service* handler = verifier.service_.get();
  auto server = http::Server::Start(
      options, [handler](const http::Request& request) { return handler->Handle(request); });
  if (!server.ok()) Fail("Server::Start: " + server.error().ToString());
  verifier.server_ = std::move(server).value();
  verifier.port_ = verifier.server_->port();
  return verifier;
}

VerifierUnderTest VerifierUnderTest::Subprocess(const std::string& binary,
                                                const service::ServiceConfig& config,
                                                const std::string& config_path) {
  WriteToml(config, config_path);
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) Fail("pipe");
  const pid_t pid = ::fork();
  if (pid < 0) Fail("fork");
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    ::execl(binary.c_str(), binary.c_str(), "serve", "--config", config_path.c_str(), nullptr);
    std::_Exit(127);
  }
  ::close(pipe_fds[1]);
  VerifierUnderTest verifier;
  verifier.pid_ = pid;
  // "verifier: serving on 127.0.0.1:0 (port N)" says it is up, and where.
  FILE* err = ::fdopen(pipe_fds[0], "r");
  char line[1024];
  while (verifier.port_ == 0 && std::fgets(line, sizeof(line), err) != nullptr) {
    std::string text = line;
    if (auto at = text.find("(port "); at != std::string::npos) {
      verifier.port_ = static_cast<std::uint16_t>(std::atoi(text.c_str() + at + 6));
    } else {
      std::fprintf(stderr, "verifier: %s", line);
    }
  }
  if (verifier.port_ == 0) Fail(binary + " serve did not start");
  // Keep reading, so the verifier never blocks on a full pipe.
  verifier.stderr_reader_ = std::make_unique<std::thread>([err] {
    char rest[1024];
    while (std::fgets(rest, sizeof(rest), err) != nullptr)
      std::fprintf(stderr, "verifier: %s", rest);
    std::fclose(err);
  });
  return verifier;
}

VerifierUnderTest::VerifierUnderTest(VerifierUnderTest&& other) noexcept
    : service_(std::move(other.service_)),
      server_(std::move(other.server_)),
      pid_(std::exchange(other.pid_, 0)),
      stderr_reader_(std::move(other.stderr_reader_)),
      port_(other.port_) {}

VerifierUnderTest::~VerifierUnderTest() { Stop(); }

std::string VerifierUnderTest::description() const {
  return pid_ != 0 ? "`verifier serve` subprocess (pid " + std::to_string(pid_) + ")"
                   : "in-process Service + http::Server";
}

bench::Memory VerifierUnderTest::Memory() const {
  return pid_ != 0 ? ReadMemory(pid_, "verifier alone")
                   : ReadMemory(0, "verifier + load generator, in-process");
}

void VerifierUnderTest::Stop() {
  if (server_) server_->Drain(std::chrono::seconds(5));
  server_.reset();
  if (service_) service_->Shutdown();
  service_.reset();
  if (pid_ != 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }
  if (stderr_reader_) {
    stderr_reader_->join();
    stderr_reader_.reset();
  }
}

}  // namespace attest::bench
