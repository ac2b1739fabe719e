// What `verifier serve` tells systemd under Type=notify (sd_notify(3)):
// READY once it listens, STOPPING when a signal stops it, with a STATUS
// line. Nothing happens when NOTIFY_SOCKET is not set (not under systemd).
#pragma once

#include <ostream>
#include <string_view>

namespace attest::verifier::cli {

// READY=1 and STATUS=`status`: systemd starts the units ordered after this one.
void NotifyServing(std::string_view status, std::ostream& err);

// STOPPING=1 and STATUS=`status`: systemd shows the service deactivating.
void NotifyStopping(std::string_view status, std::ostream& err);

}  // namespace attest::verifier::cli
