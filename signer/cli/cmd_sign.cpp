// signer sign / sign-dir: detached envelopes over files and trees.
#include <limits>
#include <string>
#include <vector>

#include "attest/clock.h"
#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/signer/directory.h"
#include "attest/utf8.h"

#include "cli/cli.h"
#include "cli/cli_common.h"

namespace attest::signer::cli {
namespace {

const attest::cli::Command kSign{
    "sign",
    "signer sign FILE... --key NAME.key --purpose artifact|config|policy [--comment TEXT] "
    "[--force] [--passphrase-file FILE | --passphrase-env VAR]",
    "Signs each FILE (hashed streaming, any size) and writes FILE.sig.json: path,\n"
    "sha256, size, purpose, key id, time, comment and the Ed25519 signature\n"
    "(signer/FORMAT.md §2). Prints the key id and each file's digest. An existing\n"
    "FILE.sig.json is never replaced without --force; if one exists, nothing is\n"
    "signed.",
    {{"key", "NAME.key", "the signing key"},
     {"purpose", "PURPOSE", "artifact, config or policy"},
     {"comment", "TEXT", "free text stored in (and signed with) the envelope"},
     {"force", "", "replace existing envelopes"},
     kPassphraseFileFlag,
     kPassphraseEnvFlag},
};

const attest::cli::Command kSignDir{
    "sign-dir",
    "signer sign-dir DIR --key NAME.key --purpose artifact|config|policy [--out FILE] "
    "[--comment TEXT] [--force] [--passphrase-file FILE | --passphrase-env VAR]",
    "Signs the manifest of DIR (every regular file under it, with its digest,\n"
    "sorted; symlinks are not followed) as one envelope (signer/FORMAT.md §3),\n"
    "written to DIR.sig.json unless --out names another file.",
    {{"key", "NAME.key", "the signing key"},
     {"purpose", "PURPOSE", "artifact, config or policy"},
     {"out", "FILE", "where to write the envelope (default DIR.sig.json)"},
     {"comment", "TEXT", "free text stored in (and signed with) the envelope"},
     {"force", "", "replace an existing envelope"},
     kPassphraseFileFlag,
     kPassphraseEnvFlag},
};

struct SignSetup {
  Purpose purpose = Purpose::kArtifact;
  std::optional<std::string> comment;
};

// Flags every signing command checks before it asks for a passphrase.
Result<SignSetup> ParseSignFlags(const ParsedFlags& flags) {
  ATTEST_RETURN_IF_ERROR(RequireFlags(flags, {"key"}));
  ATTEST_RETURN_IF_ERROR(CheckPassphraseFlags(flags));
  SignSetup setup;
  ATTEST_ASSIGN_OR_RETURN(setup.purpose, PurposeFlag(flags, "purpose"));
  setup.comment = flags.Value("comment");
  if (setup.comment && !IsValidUtf8(*setup.comment)) {
    return MakeError(ErrorCode::kInvalidArgument, "--comment is not valid UTF-8");
  }
  if (setup.comment && setup.comment->size() > kMaxCommentBytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--comment is longer than " + std::to_string(kMaxCommentBytes) + " bytes");
  }
  return setup;
}

Status RefuseExisting(const std::string& path, bool force) {
  if (!force && PathExists(path)) {
    return MakeError(ErrorCode::kAlreadyExists, path +
                                                    " already exists; pass --force to replace it "
                                                    "(nothing was signed)");
  }
  return OkStatus();
}

std::string DefaultDirEnvelope(std::string directory) {
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
  return directory + ".sig.json";
}

}  // namespace

int RunSign(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("signer", kSign, args, out, err,
                                                       std::numeric_limits<std::size_t>::max());
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  const std::vector<std::string>& files = run.flags.positional();
  if (files.empty()) return run.Fail("name at least one FILE to sign");
  Result<SignSetup> setup = ParseSignFlags(run.flags);
  if (!setup.ok()) return run.Fail(setup.error());
  bool force = run.flags.Has("force");
  for (const std::string& file : files) {
    if (Status fresh = RefuseExisting(file + ".sig.json", force); !fresh.ok()) {
      return run.Fail(fresh.error());
    }
  }
  Result<Ed25519PrivateKey> key = LoadSigningKey(run.flags);
  if (!key.ok()) return run.Fail(key.error());
  out << "key id: " << KeyIdOf(key->public_key()) << "\n";
  SystemClock clock;
  for (const std::string& file : files) {
    Result<Envelope> envelope = SignFile(file, *key, setup->purpose, setup->comment, clock.Now());
    if (!envelope.ok()) return run.Fail(envelope.error());
    std::string path = file + ".sig.json";
    if (Status written = WriteEnvelope(path, *envelope, force); !written.ok()) {
      return run.Fail(written.error());
    }
    out << "sha256:" << HexEncode(AsBytes(envelope->sha256)) << "  " << file << " -> " << path
        << "\n";
  }
  return attest::cli::kExitOk;
}

int RunSignDir(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("signer", kSignDir, args, out, err, 1);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  if (run.flags.positional().empty()) return run.Fail("name the DIR to sign");
  const std::string& directory = run.flags.positional()[0];
  Result<SignSetup> setup = ParseSignFlags(run.flags);
  if (!setup.ok()) return run.Fail(setup.error());
  bool force = run.flags.Has("force");
  std::string path = run.flags.Value("out").value_or(DefaultDirEnvelope(directory));
  if (Status fresh = RefuseExisting(path, force); !fresh.ok()) return run.Fail(fresh.error());
  Result<Ed25519PrivateKey> key = LoadSigningKey(run.flags);
  if (!key.ok()) return run.Fail(key.error());
  Result<Envelope> envelope =
      SignDirectory(directory, *key, setup->purpose, setup->comment, SystemClock().Now());
  if (!envelope.ok()) return run.Fail(envelope.error());
  if (Status written = WriteEnvelope(path, *envelope, force); !written.ok()) {
    return run.Fail(written.error());
  }
  out << "key id: " << envelope->key_id << "\n";
  out << "manifest sha256:" << HexEncode(AsBytes(envelope->sha256)) << " ("
      << envelope->manifest->files.size() << " files)  " << directory << " -> " << path << "\n";
  return attest::cli::kExitOk;
}

}  // namespace attest::signer::cli
