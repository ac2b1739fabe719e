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

using attest::cli::Command;
using attest::cli::Invocation;
using attest::cli::Start;
using attest::cli::Usage;

// A function, not a global: command tables in other files copy it during
// static initialization.
FlagSpec DbFlag();

// attest::cli::StartCommand for "ledger".
Start StartCommand(const Command& command, std::span<const std::string> args, std::ostream& out,
                   std::ostream& err, std::size_t max_positional);

// --db, or $ATTEST_LEDGER_DB.
Result<std::string> DatabasePath(const ParsedFlags& flags);
Result<Ledger> OpenLedger(const ParsedFlags& flags, bool read_only);

// The secret checkpoint key: --key, or <db>.key beside a SQLite file.
Result<std::string> SecretKeyPath(const ParsedFlags& flags, const std::string& db_path);
// Where init writes the public verifier key: --pub, or <db>.pub beside a
// SQLite file; a postgresql:// database has no "beside", so --pub is needed.
Result<std::string> PublicKeyPath(const ParsedFlags& flags, const std::string& db_path);
Result<NoteSigner> LoadSigner(const std::string& path);
// A verifier key given as a file holding "<name>+<id>+<key>", or literally.
Result<NoteVerifier> LoadVerifierKey(const std::string& file_or_key);

Result<std::uint64_t> RequiredSeq(const ParsedFlags& flags, std::size_t position,
                                  const std::string& name);

}  // namespace attest::ledger::cli
