// ledger init: a new database and its checkpoint key pair.
#include <array>

#include <unistd.h>

#include "attest/file.h"
#include "attest/ledger/postgres_ledger_store.h"

#include "cli/cli_common.h"
#include "cli/commands.h"

namespace attest::ledger::cli {
namespace {

const Command kInit{
    "init",
    "ledger init --db PATH [--origin NAME] [--key FILE] [--pub FILE]",
    "Creates a ledger database and the Ed25519 key that signs its checkpoints.\n"
    "The secret key is written 0600 in the C2SP note format\n"
    "(PRIVATE+KEY+<origin>+<id>+<key>); give the public verifier key\n"
    "(<origin>+<id>+<key>) to anyone who will verify exports or checkpoints.",
    {DbFlag(),
     {"origin", "NAME", "the ledger's name in checkpoints (default: <hostname>/attest-ledger)"},
     {"key", "FILE",
      "where to write the secret checkpoint key (default: <db>.key; required with a "
      "postgresql:// --db)"},
     {"pub", "FILE",
      "where to write the public verifier key (default: <db>.pub; required with a "
      "postgresql:// --db)"}},
};

std::string DefaultOrigin() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
    return "localhost/attest-ledger";
  }
  return std::string(host.data()) + "/attest-ledger";
}

}  // namespace

int RunInit(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kInit, args, out, err, 0);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;

  auto db_path = DatabasePath(run.flags);
  if (!db_path.ok()) return run.Fail(db_path.error());
  const bool postgres = IsPostgresUrl(*db_path);
  auto key_path_or = SecretKeyPath(run.flags, *db_path);
  if (!key_path_or.ok()) return run.Fail(key_path_or.error());
  auto pub_path_or = PublicKeyPath(run.flags, *db_path);
  if (!pub_path_or.ok()) return run.Fail(pub_path_or.error());
  const std::string key_path = *key_path_or;
  const std::string pub_path = *pub_path_or;
  for (const std::string& path : {*db_path, key_path, pub_path}) {
    if (postgres && path == *db_path) continue;  // Create refuses a database that holds a ledger
    if (PathExists(path)) return run.Fail(path + " already exists: refusing to overwrite it");
  }
  const std::string origin = run.flags.Value("origin").value_or(DefaultOrigin());
  if (Status name = CheckNoteKeyName(origin); !name.ok()) {
    return run.Fail("--origin: " + name.error().message);
  }

  auto key = Ed25519PrivateKey::Generate();
  if (!key.ok()) return run.Fail(key.error());
  auto secret_text = FormatSignerKey(origin, *key);
  if (!secret_text.ok()) return run.Fail(secret_text.error());
  if (Status written = CreateSecretFile(key_path, secret_text->view()); !written.ok()) {
    return run.Fail(written.error());
  }
  auto ledger = Ledger::Create(*db_path, origin, key->public_key());
  if (!ledger.ok()) {
    ::unlink(key_path.c_str());
    return run.Fail(ledger.error());
  }
  const std::string verifier_key = FormatVerifierKey(ledger->checkpoint_key());
  if (Status written = WriteFileAtomically(pub_path, verifier_key + "\n", 0644); !written.ok()) {
    ::unlink(key_path.c_str());
    if (!postgres) {
      for (const std::string& path : {*db_path, *db_path + "-wal", *db_path + "-shm"}) {
        ::unlink(path.c_str());
      }
    }
    return run.Fail(written.error());
  }
  out << "created ledger " << *db_path << " (origin " << origin << ")\n"
      << "secret checkpoint key: " << key_path << " (mode 0600; keep it on this host)\n"
      << "public verifier key:   " << pub_path << "\n"
      << "  " << verifier_key << "\n";
  return kExitOk;
}

}  // namespace attest::ledger::cli
