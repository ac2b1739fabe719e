#include "notify_socket.h"

#include <cerrno>
#include <cstring>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace attest::test {

Result<NotifySocket> NotifySocket::Bind(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": too long for AF_UNIX");
  }
  NotifySocket socket;
  socket.fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (socket.fd_ < 0)
    return MakeError(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  if (::bind(socket.fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return MakeError(ErrorCode::kIo, path + ": bind: " + std::strerror(errno));
  }
  socket.path_ = path;
  return socket;
}

NotifySocket::~NotifySocket() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

NotifySocket::NotifySocket(NotifySocket&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), messages_(std::move(other.messages_)) {
  other.fd_ = -1;
  other.path_.clear();
}

NotifySocket& NotifySocket::operator=(NotifySocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    messages_ = std::move(other.messages_);
    other.fd_ = -1;
    other.path_.clear();
  }
  return *this;
}

void NotifySocket::Drain() {
  if (fd_ < 0) return;
  char buffer[4096];
  for (;;) {
    const ssize_t received = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (received < 0) return;  // EAGAIN: nothing more now
    messages_.emplace_back(buffer, static_cast<std::size_t>(received));
  }
}

std::optional<std::string> NotifySocket::WaitFor(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t checked = 0;
  for (;;) {
    Drain();
    for (; checked < messages_.size(); ++checked) {
      if (match(messages_[checked])) return messages_[checked];
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    pollfd wait{fd_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    ::poll(&wait, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 200)));
  }
}

}  // namespace attest::test
