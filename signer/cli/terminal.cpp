#include "cli/terminal.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "attest/file.h"

namespace attest::signer::cli {
namespace {

constexpr std::size_t kMaxPassphraseBytes = 4096;

void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

// Echo off for the lifetime of the object; restored even on an error path.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

Result<SecretBytes> ReadLine(int fd, std::string_view prompt) {
  WriteAll(fd, prompt);
  ATTEST_ASSIGN_OR_RETURN(SecretBytes line, SecretBytes::Allocate(kMaxPassphraseBytes));
  std::size_t size = 0;
  {
    EchoOff echo_off(fd);
    for (;;) {
      char c = 0;
      ssize_t got = ::read(fd, &c, 1);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0 || c == '\n') break;
      if (size == kMaxPassphraseBytes) {
        WriteAll(fd, "\n");
        return MakeError(ErrorCode::kInvalidArgument, "the passphrase is longer than 4096 bytes");
      }
      line.data()[size++] = static_cast<std::uint8_t>(c);
    }
  }
  WriteAll(fd, "\n");
  if (size > 0 && line.data()[size - 1] == '\r') --size;
  line.Truncate(size);
  if (size == 0) return MakeError(ErrorCode::kInvalidArgument, "empty passphrase");
  return line;
}

bool SameBytes(const SecretBytes& a, const SecretBytes& b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) difference |= a.data()[i] ^ b.data()[i];
  return difference == 0;
}

}  // namespace

Result<SecretBytes> PromptPassphrase(std::string_view prompt, bool confirm) {
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "no terminal to ask for the passphrase (" +
                         std::generic_category().message(errno) +
                         "); use --passphrase-file FILE or --passphrase-env VAR");
  }
  FileDescriptor tty(fd);
  ATTEST_ASSIGN_OR_RETURN(SecretBytes first, ReadLine(tty.get(), prompt));
  if (!confirm) return first;
  ATTEST_ASSIGN_OR_RETURN(SecretBytes second, ReadLine(tty.get(), "Repeat the passphrase: "));
  if (!SameBytes(first, second)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the two passphrases differ; nothing was written");
  }
  return first;
}

}  // namespace attest::signer::cli
