#include "cli/cli_common.h"

#include <cstdlib>

#include "attest/file.h"
#include "attest/ledger/postgres_ledger_store.h"

namespace attest::ledger::cli {

FlagSpec DbFlag() {
  return {"db", "PATH|URL",
          "ledger database: a SQLite file, or a postgresql:// URL without a password "
          "(libpq reads it from PGPASSFILE) (default: $ATTEST_LEDGER_DB)"};
}

Start StartCommand(const Command& command, std::span<const std::string> args, std::ostream& out,
                   std::ostream& err, std::size_t max_positional) {
  return attest::cli::StartCommand("ledger", command, args, out, err, max_positional);
}

Result<std::string> DatabasePath(const ParsedFlags& flags) {
  if (auto db = flags.Value("db")) return *db;
  // The CLI is single-threaded; nothing modifies the environment.
  const char* env = std::getenv("ATTEST_LEDGER_DB");  // NOLINT(concurrency-mt-unsafe)
  if (env != nullptr && *env != '\0') {
    return std::string(env);
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "no ledger database given: pass --db PATH or set ATTEST_LEDGER_DB");
}

Result<Ledger> OpenLedger(const ParsedFlags& flags, bool read_only) {
  ATTEST_ASSIGN_OR_RETURN(std::string path, DatabasePath(flags));
  LedgerOptions options;
  options.read_only = read_only;
  return Ledger::Open(path, options);
}

namespace {

// Key files sit beside a SQLite file by default. A PostgreSQL ledger's keys
// are files the operator provisions on each signing host, never rows in the
// database, so their paths must be given.
Result<std::string> KeyFilePath(const ParsedFlags& flags, const std::string& db_path,
                                const char* flag, const char* suffix) {
  if (auto given = flags.Value(flag)) return *given;
  if (IsPostgresUrl(db_path)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("with a postgresql:// database, give --") + flag +
                         " FILE: the checkpoint key files live on this host, never in the "
                         "database");
  }
  return db_path + suffix;
}

}  // namespace

Result<std::string> SecretKeyPath(const ParsedFlags& flags, const std::string& db_path) {
  return KeyFilePath(flags, db_path, "key", ".key");
}

Result<std::string> PublicKeyPath(const ParsedFlags& flags, const std::string& db_path) {
  return KeyFilePath(flags, db_path, "pub", ".pub");
}

Result<NoteSigner> LoadSigner(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes text, ReadSecretFile(path, 4096));
  auto signer = ParseSignerKey(text);
  if (!signer.ok()) return signer.error().WithContext(path);
  return signer;
}

Result<NoteVerifier> LoadVerifierKey(const std::string& file_or_key) {
  if (PathExists(file_or_key)) {
    ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(file_or_key, 4096));
    auto key = ParseVerifierKey(text);
    if (!key.ok()) return key.error().WithContext(file_or_key);
    return key;
  }
  auto key = ParseVerifierKey(file_or_key);
  if (!key.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--key " + file_or_key +
                         ": neither a readable file nor a verifier key (<name>+<id>+<key>)");
  }
  return key;
}

Result<std::uint64_t> RequiredSeq(const ParsedFlags& flags, std::size_t position,
                                  const std::string& name) {
  if (flags.positional().size() <= position) {
    return MakeError(ErrorCode::kInvalidArgument, "missing " + name);
  }
  return ParseUnsigned(flags.positional()[position], name);
}

}  // namespace attest::ledger::cli
