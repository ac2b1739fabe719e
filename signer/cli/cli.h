// The `signer` command line: keys, detached signatures over files and
// directory trees, and their ledger records. main() only forwards argv
// here, so tests can run it in-process.
#pragma once

#include <ostream>
#include <span>
#include <string>

#include "attest/cli.h"

namespace attest::signer::cli {

using CommandArgs = std::span<const std::string>;

// `args` excludes the program name. Exit codes: attest::cli::ExitCode.
int Run(CommandArgs args, std::ostream& out, std::ostream& err);

int RunKeygen(CommandArgs args, std::ostream& out, std::ostream& err);
int RunSign(CommandArgs args, std::ostream& out, std::ostream& err);
int RunSignDir(CommandArgs args, std::ostream& out, std::ostream& err);
int RunVerify(CommandArgs args, std::ostream& out, std::ostream& err);
int RunVerifyDir(CommandArgs args, std::ostream& out, std::ostream& err);
int RunSubmit(CommandArgs args, std::ostream& out, std::ostream& err);
int RunRevoke(CommandArgs args, std::ostream& out, std::ostream& err);

}  // namespace attest::signer::cli
