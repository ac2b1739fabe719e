// What attestd tells systemd (sd_notify through libsystemd): READY once the
// first attestation attempt is over, STATUS after each, WATCHDOG pings at
// half of WatchdogSec=, STOPPING and RELOADING. Without NOTIFY_SOCKET (not
// under systemd) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace attest::attestd {

class ServiceNotifier {
 public:
  ServiceNotifier();
  void Ready(std::string_view status);
  void Status(std::string_view status);
  void Reloading();
  void Stopping();
  void Watchdog();
  // How often to ping: half the watchdog's timeout, nullopt when it is off.
  std::optional<std::chrono::milliseconds> watchdog_period() const { return watchdog_period_; }

 private:
  void Send(const std::string& state);
  std::optional<std::chrono::milliseconds> watchdog_period_;
};

}  // namespace attest::attestd
