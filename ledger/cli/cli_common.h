// What the ledger commands share: flag handling, opening the ledger, keys,
// and turning an Error into one line on stderr and an exit code.
#pragma once

#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "attest/error.h"
#include "attest/flags.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/note.h"

#include "cli/cli.h"

namespace attest::ledger::cli {

struct Command {
  std::string name;      // "append", "proof inclusion"
  std::string synopsis;  // "ledger append --kind KIND ..."
  std::string description;
  std::vector<FlagSpec> flags;
};

// The context one command runs in.
struct Invocation {
  const Command& command;
  ParsedFlags flags;
  std::ostream& out;
  std::ostream& err;

  // Prints "ledger <command>: <message>" and returns kExitUsageOrInput.
  int Fail(const Error& error) const;
  int Fail(const std::string& message) const;
};

// A function, not a global: command tables in other files copy it during
// static initialization.
FlagSpec DbFlag();

std::string Usage(const Command& command);

// How a command starts: its flags parsed, at most `max_positional`
// positional arguments. Holds the Invocation to run, or (after printing help
// or the error) the exit code to return.
struct Start {
  std::optional<Invocation> run;
  int exit_code = kExitOk;
};
Start StartCommand(const Command& command, std::span<const std::string> args, std::ostream& out,
                   std::ostream& err, std::size_t max_positional);

// --db, or $ATTEST_LEDGER_DB.
Result<std::string> DatabasePath(const ParsedFlags& flags);
Result<Ledger> OpenLedger(const ParsedFlags& flags, bool read_only);

// The secret checkpoint key: --key, or <db>.key.
std::string SecretKeyPath(const ParsedFlags& flags, const std::string& db_path);
Result<NoteSigner> LoadSigner(const std::string& path);
// A verifier key given as a file holding "<name>+<id>+<key>", or literally.
Result<NoteVerifier> LoadVerifierKey(const std::string& file_or_key);

Result<std::uint64_t> RequiredSeq(const ParsedFlags& flags, std::size_t position,
                                  const std::string& name);

}  // namespace attest::ledger::cli
