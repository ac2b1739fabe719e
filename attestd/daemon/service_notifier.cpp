#include "attest/attestd/service_notifier.h"

#include <string>

#include <systemd/sd-daemon.h>

#include "attest/attestd/daemon_log.h"

namespace attest::attestd {

ServiceNotifier::ServiceNotifier() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_period_ = std::chrono::milliseconds(usec / 2000);
  }
}

void ServiceNotifier::Send(const std::string& state) { sd_notify(0, state.c_str()); }

// A status carries the verifier's words: one line, so they cannot add an
// assignment (STOPPING=1, WATCHDOG=trigger, ...) of their own.
constexpr std::size_t kMaxStatus = 256;

void ServiceNotifier::Ready(std::string_view status) {
  Send("READY=1\nSTATUS=" + Printable(status, kMaxStatus));
}

void ServiceNotifier::Status(std::string_view status) {
  Send("STATUS=" + Printable(status, kMaxStatus));
}

void ServiceNotifier::Reloading() { Send("RELOADING=1"); }

void ServiceNotifier::Stopping() { Send("STOPPING=1"); }

void ServiceNotifier::Watchdog() { Send("WATCHDOG=1"); }

}  // namespace attest::attestd
