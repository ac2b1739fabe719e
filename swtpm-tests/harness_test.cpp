// The harness itself: private simulators side by side, EK certificates from
// their own CA, and processes that are really gone after Stop.
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "attest/testing/test_support.h"

#include "harness/swtpm_simulator.h"

namespace attest::test {
namespace {

CommandResult Tpm2Tool(const SwtpmSimulator& swtpm, std::vector<std::string> argv) {
  return RunCommand(argv, WithEnvironment({{"TPM2TOOLS_TCTI", swtpm.tcti()}}));
}

TEST(SwtpmHarness, TwoSimulatorsRunSideBySideWithTheirOwnCas) {
  auto first = SwtpmSimulator::Start();
  auto second = SwtpmSimulator::Start();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_NE((*first)->tcti(), (*second)->tcti());
  EXPECT_NE((*first)->directory(), (*second)->directory());
  EXPECT_NE(ReadText((*first)->root_certificate_path()),
            ReadText((*second)->root_certificate_path()));
  for (const auto* swtpm : {first->get(), second->get()}) {
    CommandResult random = Tpm2Tool(*swtpm, {"tpm2_getrandom", "--hex", "8"});
    EXPECT_EQ(random.exit_code, 0) << random.err;
    EXPECT_EQ(random.out.size(), 16u) << random.out;
  }
}

// The sockets are files in the simulator's own directory, and swtpm holds no
// TCP socket at all: nothing to probe for, nothing another process can take.
TEST(SwtpmHarness, ListensOnUnixSocketsInItsOwnDirectoryOnly) {
  auto swtpm = SwtpmSimulator::Start();
  ASSERT_TRUE(swtpm.ok()) << swtpm.error().ToString();
  const std::string socket = (*swtpm)->socket_path();
  EXPECT_EQ(socket.rfind((*swtpm)->directory() + "/", 0), 0u) << socket;
  EXPECT_EQ((*swtpm)->tcti(), "swtpm:path=" + socket);
  for (const std::string& path : {socket, socket + ".ctrl"}) {
    struct stat status {};
    ASSERT_EQ(::stat(path.c_str(), &status), 0) << path;
    EXPECT_TRUE(S_ISSOCK(status.st_mode)) << path;
  }
  std::set<std::string> inodes;  // of every socket the process holds
  const std::string fds = "/proc/" + std::to_string((*swtpm)->pid()) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(fds)) {
    std::error_code error;
    const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (!error && target.rfind("socket:[", 0) == 0) {
      inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  EXPECT_GE(inodes.size(), 2u);  // the listening command and control sockets
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream lines(ReadText(table));
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      std::string field;
      for (int i = 0; i < 10 && fields >> field; ++i) {
      }
      EXPECT_EQ(inodes.count(field), 0u) << "swtpm holds a TCP socket: " << line;
    }
  }
}

TEST(SwtpmHarness, EkCertificateChainsToTheSimulatorsOwnCa) {
  auto swtpm = SwtpmSimulator::Start();
  ASSERT_TRUE(swtpm.ok()) << swtpm.error().ToString();
  TempDir dir;
  CommandResult read =
      Tpm2Tool(**swtpm, {"tpm2_nvread", "0x01c00002", "-C", "o", "-o", dir.File("ek.der")});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  CommandResult pem = RunCommand(
      {"openssl", "x509", "-inform", "DER", "-in", dir.File("ek.der"), "-out", dir.File("ek.pem")});
  ASSERT_EQ(pem.exit_code, 0) << pem.err;
  CommandResult verify =
      RunCommand({"openssl", "verify", "-CAfile", (*swtpm)->root_certificate_path(), "-untrusted",
                  (*swtpm)->issuer_certificate_path(), dir.File("ek.pem")});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // Another simulator's CA does not vouch for it.
  auto other = SwtpmSimulator::Start();
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  verify = RunCommand({"openssl", "verify", "-CAfile", (*other)->root_certificate_path(),
                       "-untrusted", (*other)->issuer_certificate_path(), dir.File("ek.pem")});
  EXPECT_NE(verify.exit_code, 0);
}

TEST(SwtpmHarness, WithoutEkCertificatesTheNvIndexIsUndefined) {
  auto swtpm = SwtpmSimulator::Start({.create_ek_certificates = false});
  ASSERT_TRUE(swtpm.ok()) << swtpm.error().ToString();
  CommandResult handles = Tpm2Tool(**swtpm, {"tpm2_getcap", "handles-nv-index"});
  ASSERT_EQ(handles.exit_code, 0) << handles.err;
  EXPECT_EQ(handles.out.find("0x1C00002"), std::string::npos) << handles.out;
}

TEST(SwtpmHarness, StopEndsTheProcessAndDestructionToo) {
  pid_t pid = -1;
  {
    auto swtpm = SwtpmSimulator::Start();
    ASSERT_TRUE(swtpm.ok()) << swtpm.error().ToString();
    pid = (*swtpm)->pid();
    ASSERT_EQ(::kill(pid, 0), 0);
    (*swtpm)->Stop();
    EXPECT_EQ(::kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
    ASSERT_TRUE((*swtpm)->Restart().ok());
    pid = (*swtpm)->pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(SwtpmHarness, RestartIsAReboot) {
  auto swtpm = SwtpmSimulator::Start();
  ASSERT_TRUE(swtpm.ok()) << swtpm.error().ToString();
  const std::string zero(64, '0');
  ASSERT_EQ(Tpm2Tool(**swtpm, {"tpm2_pcrextend", "16:sha256=" + std::string(64, 'a')}).exit_code,
            0);
  CommandResult before = Tpm2Tool(**swtpm, {"tpm2_pcrread", "sha256:16"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(before.out.find("0x" + std::string(64, '0')), std::string::npos) << before.out;
  ASSERT_TRUE((*swtpm)->Restart().ok());
  CommandResult after = Tpm2Tool(**swtpm, {"tpm2_pcrread", "sha256:16"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.out.find("0x" + std::string(64, '0')), std::string::npos) << after.out;
}

}  // namespace
}  // namespace attest::test
