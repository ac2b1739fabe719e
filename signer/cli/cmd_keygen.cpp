// signer keygen: a new Ed25519 key, its secret half encrypted with a
// passphrase.
#include <cstdlib>
#include <string>

#include "attest/signer/key_file.h"

#include "cli/cli.h"
#include "cli/cli_common.h"

namespace attest::signer::cli {
namespace {

// Set to 1 to use libsodium's minimum Argon2id cost: for test suites that
// create many keys, never for a real key.
constexpr const char* kFastKdfVariable = "ATTEST_SIGNER_INSECURE_FAST_KDF";

const attest::cli::Command kKeygen{
    "keygen",
    "signer keygen --out NAME [--pem] [--unencrypted] "
    "[--passphrase-file FILE | --passphrase-env VAR]",
    "Creates an Ed25519 key: NAME.key (the secret, mode 0600, encrypted with a\n"
    "passphrase: Argon2id + XChaCha20-Poly1305), NAME.pub and, with --pem,\n"
    "NAME.pem (SPKI, for `openssl pkeyutl -verify`). Prints the key id. Nothing\n"
    "is written if any of these files exists.\n"
    "The passphrase is asked twice on the terminal unless a file or an\n"
    "environment variable is named; there is no flag that takes it directly.\n"
    "--unencrypted stores the secret in the clear: for CI keys only.\n"
    "Environment: ATTEST_SIGNER_INSECURE_FAST_KDF=1 uses the minimum Argon2id\n"
    "cost (for test suites; never for a real key).",
    {{"out", "NAME", "base path of the files to write"},
     {"pem", "", "also write NAME.pem"},
     {"unencrypted", "", "do not encrypt NAME.key (CI keys only)"},
     kPassphraseFileFlag,
     kPassphraseEnvFlag},
};

bool FastKdfRequested() {
  // The CLI is single-threaded; nothing modifies the environment.
  const char* value = std::getenv(kFastKdfVariable);  // NOLINT(concurrency-mt-unsafe)
  return value != nullptr && std::string(value) == "1";
}

}  // namespace

int RunKeygen(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("signer", kKeygen, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  if (Status required = RequireFlags(run.flags, {"out"}); !required.ok()) {
    return run.Fail(required.error());
  }
  if (Status sources = CheckPassphraseFlags(run.flags); !sources.ok()) {
    return run.Fail(sources.error());
  }
  std::string name = *run.flags.Value("out");
  KeyGenOptions options;
  options.encrypt = !run.flags.Has("unencrypted");
  options.write_pem = run.flags.Has("pem");
  if (!options.encrypt && (run.flags.Has("passphrase-file") || run.flags.Has("passphrase-env"))) {
    return run.Fail("--unencrypted takes no passphrase; drop --passphrase-file/--passphrase-env");
  }
  if (FastKdfRequested()) {
    options.opslimit = kOpslimitMin;
    options.memlimit = kMemlimitMin;
    if (options.encrypt) {
      err << "signer keygen: warning: " << kFastKdfVariable
          << "=1: minimum Argon2id cost, for tests only\n";
    }
  }
  Result<PublicKeyInfo> written = MakeError(ErrorCode::kInternal, "not generated");
  if (options.encrypt) {
    Result<SecretBytes> passphrase =
        ObtainPassphrase(run.flags, "Passphrase for the new key " + name + ".key: ", true);
    if (!passphrase.ok()) return run.Fail(passphrase.error());
    written = WriteNewKey(name, passphrase->view(), options);
  } else {
    err << "signer keygen: warning: " << name
        << ".key is NOT encrypted: anyone who can read it can sign; for CI keys only\n";
    written = WriteNewKey(name, ByteView(), options);
  }
  if (!written.ok()) return run.Fail(written.error());
  out << "key id: " << written->key_id << "\n";
  out << "wrote " << name << ".key, " << name << ".pub";
  if (options.write_pem) out << ", " << name << ".pem";
  out << "\n";
  return attest::cli::kExitOk;
}

}  // namespace attest::signer::cli
