#include "attest/signer/passphrase.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "attest/file.h"

namespace attest::signer {
namespace {

constexpr std::size_t kMaxPassphraseBytes = 4096;

}  // namespace

Result<SecretBytes> PassphraseFromBytes(ByteView bytes) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes secret, SecretBytes::Allocate(bytes.size()));
  std::copy(bytes.begin(), bytes.end(), secret.data());
  return secret;
}

Result<SecretBytes> ReadPassphraseFile(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes secret, ReadSecretFile(path, kMaxPassphraseBytes));
  std::size_t size = secret.size();
  if (size > 0 && secret.data()[size - 1] == '\n') --size;
  if (size > 0 && secret.data()[size - 1] == '\r') --size;
  secret.Truncate(size);
  if (size == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ": the passphrase file is empty; write the passphrase into it");
  }
  return secret;
}

Result<SecretBytes> PassphraseFromEnv(const std::string& name) {
  // Read once, by the single-threaded CLI; nothing modifies the environment.
  const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) {
    return MakeError(ErrorCode::kNotFound,
                     "environment variable " + name + " (named for the passphrase) is not set");
  }
  std::size_t size = std::strlen(value);
  if (size == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "environment variable " + name + " (named for the passphrase) is empty");
  }
  return PassphraseFromBytes(ByteView(reinterpret_cast<const std::uint8_t*>(value), size));
}

}  // namespace attest::signer
