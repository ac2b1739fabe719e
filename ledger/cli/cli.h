// The `ledger` command line. main() only forwards argv here, so tests and
// other front ends can run it in-process.
#pragma once

#include <ostream>
#include <span>
#include <string>

namespace attest::ledger::cli {

// Exit codes, the same for every command.
enum ExitCode : int {
  kExitOk = 0,
  kExitVerificationFailed = 1,
  kExitUsageOrInput = 2,
};

// `args` excludes the program name.
int Run(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace attest::ledger::cli
