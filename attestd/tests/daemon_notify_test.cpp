// systemd notification and the log, as systemd and journald see them: the
// datagrams on a NOTIFY_SOCKET this test creates (PID 1 here is not
// systemd), and stderr lines with their priority prefix, a problem once per
// change.
#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attest/attestd/daemon_log.h"
#include "attest/attestd/service_notifier.h"
#include "attest/file.h"
#include "attest/testing/test_support.h"

namespace attest::attestd {
namespace {

// A datagram socket in the test's temp dir, named by NOTIFY_SOCKET while
// the object lives.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path)
      : fd_(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    EXPECT_EQ(bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  // The next datagram, "" after a second without one.
  std::string Receive() {
    timeval timeout{1, 0};
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char buffer[4096];
    const ssize_t length = recv(fd_.get(), buffer, sizeof(buffer), 0);
    return length > 0 ? std::string(buffer, static_cast<std::size_t>(length)) : "";
  }

 private:
  FileDescriptor fd_;
};

TEST(ServiceNotifierTest, ReadyStatusWatchdogReachTheNotifySocket) {
  test::TempDir dir;
  NotifySocket socket(dir.File("notify"));
  setenv("WATCHDOG_USEC", "4000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  ServiceNotifier notifier;
  ASSERT_TRUE(notifier.watchdog_period().has_value());
  EXPECT_EQ(*notifier.watchdog_period(), std::chrono::milliseconds(2000));
  notifier.Ready("trusted");
  EXPECT_EQ(socket.Receive(), "READY=1\nSTATUS=trusted");
  notifier.Status("untrusted: RUNTIME_NOT_APPROVED");
  EXPECT_EQ(socket.Receive(), "STATUS=untrusted: RUNTIME_NOT_APPROVED");
  // What the verifier says cannot add a line of its own to the message.
  notifier.Status("untrusted\nSTOPPING=1\nWATCHDOG=trigger");
  EXPECT_EQ(socket.Receive(), "STATUS=untrusted STOPPING=1 WATCHDOG=trigger");
  notifier.Watchdog();
  EXPECT_EQ(socket.Receive(), "WATCHDOG=1");
  notifier.Stopping();
  EXPECT_EQ(socket.Receive(), "STOPPING=1");
}

TEST(ServiceNotifierTest, TheWatchdogIsOffForAnotherProcessOrWithoutSystemd) {
  test::TempDir dir;
  NotifySocket socket(dir.File("notify"));
  setenv("WATCHDOG_USEC", "4000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_FALSE(ServiceNotifier().watchdog_period().has_value());
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  unsetenv("NOTIFY_SOCKET");
  ServiceNotifier outside;
  EXPECT_FALSE(outside.watchdog_period().has_value());
  outside.Ready("started");  // nothing to send to, and no crash
}

TEST(DaemonLogTest, LinesCarryTheirPriorityAndAProblemIsLoggedOncePerChange) {
  std::ostringstream out;
  DaemonLog log(out);
  log.Write(Priority::kInfo, "attestd starting");
  log.Problem("cycle", "attestation: cannot reach the verifier");
  log.Problem("cycle", "attestation: cannot reach the verifier");
  log.Problem("cycle", "attestation: cannot reach the verifier");
  log.Problem("cycle", "attestation: HTTP 503 OVERLOADED");
  log.Recovered("cycle", "attestation works again");
  log.Recovered("cycle", "attestation works again");
  log.Write(Priority::kError, "two\nlines and an \x1b]0;escape\x07");
  EXPECT_EQ(out.str(),
            "<6>attestd starting\n"
            "<4>attestation: cannot reach the verifier\n"
            "<4>attestation: HTTP 503 OVERLOADED\n"
            "<5>attestation works again\n"
            "<3>two lines and an  ]0;escape \n");
}

// A measurement warning that persists while cycles succeed is logged once,
// and the cycle's recovery does not make it repeat (nor the reverse).
TEST(DaemonLogTest, TopicsDoNotResetEachOther) {
  std::ostringstream out;
  DaemonLog log(out);
  log.Problem("cycle", "attestation: cannot reach the verifier");
  for (int cycle = 0; cycle < 3; ++cycle) {
    log.Recovered("cycle", "attestation works again");
    log.Problem("runtime measurement", "/usr/bin/runc matched nothing");
  }
  EXPECT_EQ(out.str(),
            "<4>attestation: cannot reach the verifier\n"
            "<5>attestation works again\n"
            "<4>/usr/bin/runc matched nothing\n");
}

TEST(DaemonLogTest, PrintableCutsAndBlanksControlCharacters) {
  EXPECT_EQ(Printable("a\nb\x1b[31mc", 100), "a b [31mc");
  EXPECT_EQ(Printable("abcdef", 3), "abc...");
  EXPECT_EQ(Printable("", 3), "");
}

}  // namespace
}  // namespace attest::attestd
