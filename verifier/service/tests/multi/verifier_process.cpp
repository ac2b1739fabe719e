#include "verifier_process.h"

#include <chrono>
#include <csignal>
#include <cstdlib>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace attest::service::test {
namespace {

constexpr std::chrono::seconds kStartTimeout{30};

// The port in "verifier: serving on 127.0.0.1:0 (port N)", 0 before it.
std::uint16_t PortIn(const std::string& output) {
  const std::size_t at = output.find("(port ");
  if (at == std::string::npos || output.find(')', at) == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::atoi(output.c_str() + at + 6));
}

}  // namespace

Result<std::unique_ptr<VerifierProcess>> VerifierProcess::Start(const std::string& binary,
                                                                const std::string& config_path) {
  int fds[2];
  // Close-on-exec: a second verifier must not inherit this one's pipe, or
  // the reader would never see it close.
  if (::pipe2(fds, O_CLOEXEC) != 0) return MakeError(ErrorCode::kIo, "pipe2");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return MakeError(ErrorCode::kIo, "fork");
  }
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    ::dup2(fds[1], STDOUT_FILENO);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(125);
    ::execl(binary.c_str(), binary.c_str(), "serve", "--config", config_path.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(fds[1]);
  std::unique_ptr<VerifierProcess> process(new VerifierProcess());
  process->pid_ = pid;
  VerifierProcess* self = process.get();
  const int read_fd = fds[0];
  process->reader_ = std::make_unique<std::thread>([self, read_fd] {
    char buffer[4096];
    for (;;) {
      const ssize_t got = ::read(read_fd, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      std::lock_guard lock(self->output_mutex_);
      self->output_.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(read_fd);
  });
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (process->port_ == 0) {
    process->port_ = PortIn(process->Output());
    if (process->port_ != 0) break;
    if (!process->Running() || std::chrono::steady_clock::now() > deadline) {
      process->Kill();
      return MakeError(ErrorCode::kIo,
                       binary + " serve did not start; it printed:\n" + process->Output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return process;
}

VerifierProcess::~VerifierProcess() {
  Kill();
  if (reader_) reader_->join();
}

void VerifierProcess::Reap(int options) {
  if (pid_ <= 0) return;
  int status = 0;
  if (::waitpid(pid_, &status, options) == pid_) {
    exit_status_ = status;
    pid_ = -1;
  }
}

bool VerifierProcess::Running() {
  Reap(WNOHANG);
  return pid_ > 0;
}

void VerifierProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  Reap(0);
}

int VerifierProcess::Terminate() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    Reap(0);
  }
  return exit_status_;
}

std::string VerifierProcess::Output() const {
  std::lock_guard lock(output_mutex_);
  return output_;
}

}  // namespace attest::service::test
