#include "cli/cli_common.h"

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/signer/passphrase.h"

#include "cli/terminal.h"

namespace attest::signer::cli {
namespace {

Error Usage(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// O_EXCL: two signers racing for the same name cannot both win.
Status CreateNewFile(const std::string& path, std::string_view contents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      return MakeError(ErrorCode::kAlreadyExists,
                       path + " already exists; pass --force to replace it");
    }
    return ErrorFromErrno(errno, "create", path);
  }
  FileDescriptor file(fd);
  while (!contents.empty()) {
    ssize_t written = ::write(file.get(), contents.data(), contents.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      int error = errno;
      ::unlink(path.c_str());
      return ErrorFromErrno(error, "write", path);
    }
    contents.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(file.get()) != 0) {
    int error = errno;
    ::unlink(path.c_str());
    return ErrorFromErrno(error, "fsync", path);
  }
  return OkStatus();
}

}  // namespace

Status CheckPassphraseFlags(const ParsedFlags& flags) {
  if (flags.Has("passphrase-file") && flags.Has("passphrase-env")) {
    return Usage("give at most one of --passphrase-file and --passphrase-env");
  }
  return OkStatus();
}

Result<SecretBytes> ObtainPassphrase(const ParsedFlags& flags, std::string_view prompt,
                                     bool confirm) {
  ATTEST_RETURN_IF_ERROR(CheckPassphraseFlags(flags));
  if (std::optional<std::string> file = flags.Value("passphrase-file")) {
    return ReadPassphraseFile(*file).WithContext("--passphrase-file");
  }
  if (std::optional<std::string> variable = flags.Value("passphrase-env")) {
    return PassphraseFromEnv(*variable).WithContext("--passphrase-env");
  }
  return PromptPassphrase(prompt, confirm);
}

Result<Ed25519PrivateKey> LoadSigningKey(const ParsedFlags& flags) {
  ATTEST_RETURN_IF_ERROR(CheckPassphraseFlags(flags));
  std::string path = *flags.Value("key");
  std::string prompt = "Passphrase for " + path + ": ";
  return LoadPrivateKey(path, [&flags, &prompt] { return ObtainPassphrase(flags, prompt, false); });
}

Status RequireFlags(const ParsedFlags& flags, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (!flags.Has(name)) return Usage(std::string("--") + name + " is required");
  }
  return OkStatus();
}

Result<Purpose> PurposeFlag(const ParsedFlags& flags, const std::string& name) {
  std::optional<std::string> value = flags.Value(name);
  if (!value) return Usage("--" + name + " is required (artifact, config or policy)");
  Result<Purpose> purpose = ParsePurpose(*value);
  if (!purpose.ok()) {
    return Usage("--" + name + ": \"" + *value + "\" is not a purpose; use artifact, config or " +
                 "policy");
  }
  return purpose;
}

Result<Envelope> LoadEnvelope(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxEnvelopeBytes));
  return ParseEnvelope(text, path);
}

Status WriteEnvelope(const std::string& path, const Envelope& envelope, bool force) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, SerializeEnvelope(envelope));
  if (force) return WriteFileAtomically(path, text, 0644);
  return CreateNewFile(path, text);
}

int VerdictExitCode(bool valid) {
  return valid ? attest::cli::kExitOk : attest::cli::kExitVerificationFailed;
}

}  // namespace attest::signer::cli
