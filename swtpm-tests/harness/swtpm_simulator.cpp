#include "harness/swtpm_simulator.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/testing/test_support.h"

namespace attest::test {
namespace {

using std::chrono::steady_clock;

Error HarnessError(const std::string& message) { return MakeError(ErrorCode::kIo, message); }

std::string Tail(const std::string& text, std::size_t lines) {
  std::size_t position = text.size();
  while (lines-- > 0 && position > 0) {
    position = text.rfind('\n', position - 1);
    if (position == std::string::npos) return text;
  }
  return text.substr(position);
}

// TPM2_GetRandom(8) over the raw command socket: the simulator answers
// TPM commands, not just connects.
bool AnswersGetRandom(const std::string& socket_path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const unsigned char command[] = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 8};
    unsigned char response[64];
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    if (::send(fd, command, sizeof(command), MSG_NOSIGNAL) == sizeof(command)) {
      ssize_t received = ::recv(fd, response, sizeof(response), 0);
      // tag 0x8001, response code 0 (TPM_RC_SUCCESS)
      ok = received >= 10 && response[6] == 0 && response[7] == 0 && response[8] == 0 &&
           response[9] == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

Result<std::unique_ptr<SwtpmSimulator>> SwtpmSimulator::Start(const SwtpmOptions& options) {
  std::string pattern = ::testing::TempDir() + "/swtpm_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return HarnessError("mkdtemp: " + pattern);
  std::unique_ptr<SwtpmSimulator> simulator(new SwtpmSimulator(pattern));
  ATTEST_RETURN_IF_ERROR(simulator->Manufacture(options));
  ATTEST_RETURN_IF_ERROR(simulator->Launch());
  return simulator;
}

SwtpmSimulator::~SwtpmSimulator() {
  Stop();
  if (std::getenv("ATTEST_KEEP_SWTPM") != nullptr) {
    std::fprintf(stderr, "swtpm state kept in %s\n", directory_.c_str());
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

Status SwtpmSimulator::Manufacture(const SwtpmOptions& options) {
  std::filesystem::create_directories(state_directory());
  std::filesystem::create_directories(directory_ + "/ca");
  WriteText(directory_ + "/swtpm_setup.conf",
            "create_certs_tool = /usr/bin/swtpm_localca\n"
            "create_certs_tool_config = " +
                directory_ +
                "/swtpm-localca.conf\n"
                "create_certs_tool_options = " +
                directory_ +
                "/swtpm-localca.options\n"
                "active_pcr_banks = " +
                options.pcr_banks + "\n");
  WriteText(directory_ + "/swtpm-localca.conf", "statedir = " + directory_ +
                                                    "/ca\n"
                                                    "signingkey = " +
                                                    directory_ +
                                                    "/ca/signkey.pem\n"
                                                    "issuercert = " +
                                                    directory_ +
                                                    "/ca/issuercert.pem\n"
                                                    "certserial = " +
                                                    directory_ + "/ca/certserial\n");
  WriteText(directory_ + "/swtpm-localca.options",
            "--platform-manufacturer attest-tests\n--platform-version 2.1\n"
            "--platform-model swtpm\n");
  std::vector<std::string> argv = {"swtpm_setup", "--tpm2",
                                   "--tpm-state", state_directory(),
                                   "--config",    directory_ + "/swtpm_setup.conf",
                                   "--logfile",   directory_ + "/swtpm_setup.log"};
  if (options.create_ek_certificates) {
    argv.insert(argv.end(), {"--create-ek-cert", "--create-platform-cert"});
  } else {
    argv.push_back("--createek");
  }
  CommandResult result = RunCommand(argv);
  if (result.exit_code != 0) {
    return HarnessError(
        "swtpm_setup failed (exit " + std::to_string(result.exit_code) + "); see " + directory_ +
        "/swtpm_setup.log:" + Tail(ReadText(directory_ + "/swtpm_setup.log") + result.err, 5));
  }
  return OkStatus();
}

Status SwtpmSimulator::Launch() {
  const std::string control_path = socket_path() + ".ctrl";
  if (control_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return HarnessError("socket path too long for AF_UNIX (" + control_path +
                        "): set TEST_TMPDIR to a shorter directory");
  }
  // Left behind if a previous run of this simulator was killed.
  ::unlink(socket_path().c_str());
  ::unlink(control_path.c_str());
  std::vector<std::string> argv = {"swtpm",
                                   "socket",
                                   "--tpm2",
                                   "--tpmstate",
                                   "dir=" + state_directory(),
                                   "--server",
                                   "type=unixio,path=" + socket_path(),
                                   "--ctrl",
                                   "type=unixio,path=" + control_path,
                                   "--flags",
                                   "not-need-init,startup-clear",
                                   "--log",
                                   "file=" + directory_ + "/swtpm.log,level=1"};
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return HarnessError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // The simulator dies with the test process, however that ends.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  pid_ = pid;
  Status answering = WaitUntilAnswering();
  if (answering.ok()) return OkStatus();
  Stop();
  return HarnessError(answering.error().message + "; see " + directory_ +
                      "/swtpm.log:" + Tail(ReadText(directory_ + "/swtpm.log"), 5));
}

Status SwtpmSimulator::WaitUntilAnswering() {
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return HarnessError("swtpm exited during start-up");
    }
    if (AnswersGetRandom(socket_path())) return OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return HarnessError("swtpm did not answer TPM2_GetRandom within 10 s");
}

void SwtpmSimulator::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  auto deadline = steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

Status SwtpmSimulator::Restart() {
  Stop();
  return Launch();
}

void SwtpmTest::SetUp() {
  auto started = SwtpmSimulator::Start(Options());
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  swtpm_ = std::move(started).value();
}

}  // namespace attest::test
