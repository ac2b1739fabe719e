#include "cli/serve_notify.h"

#include <cstring>
#include <string>

#include <systemd/sd-daemon.h>

namespace attest::verifier::cli {
namespace {

// A failed notification is logged, not fatal: systemd then times the start
// out and says so, while serving without systemd is unaffected.
void Notify(std::string_view state, std::string_view status, std::ostream& err) {
  std::string message(state);
  message += "\nSTATUS=";
  message += status;
  const int sent = ::sd_notify(0, message.c_str());
  if (sent < 0) {
    err << "verifier: sd_notify " << state << " failed: " << std::strerror(-sent) << "\n";
  }
}

}  // namespace

void NotifyServing(std::string_view status, std::ostream& err) { Notify("READY=1", status, err); }

void NotifyStopping(std::string_view status, std::ostream& err) {
  Notify("STOPPING=1", status, err);
}

}  // namespace attest::verifier::cli
