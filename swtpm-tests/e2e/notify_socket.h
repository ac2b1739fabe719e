// The NOTIFY_SOCKET systemd would give a Type=notify service: a unix
// datagram socket in the test's temp dir, so a test sees the READY=1,
// STATUS=... and STOPPING=1 messages attestd sends through sd_notify.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attest/error.h"

namespace attest::test {

class NotifySocket {
 public:
  static Result<NotifySocket> Bind(const std::string& path);
  NotifySocket() = default;
  ~NotifySocket();
  NotifySocket(NotifySocket&& other) noexcept;
  NotifySocket& operator=(NotifySocket&& other) noexcept;
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }
  // Every message received so far, in order (each one datagram, as sent).
  const std::vector<std::string>& messages() { return Drain(), messages_; }
  // Waits until a message satisfies `match`; the first that does.
  std::optional<std::string> WaitFor(const std::function<bool(const std::string&)>& match,
                                     std::chrono::milliseconds timeout);

 private:
  void Drain();
  int fd_ = -1;
  std::string path_;
  std::vector<std::string> messages_;
};

}  // namespace attest::test
