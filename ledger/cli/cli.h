// The `ledger` command line. main() only forwards argv here, so tests and
// other front ends can run it in-process.
#pragma once

#include <ostream>
#include <span>
#include <string>

#include "attest/cli.h"

namespace attest::ledger::cli {

using attest::cli::kExitOk;
using attest::cli::kExitUsageOrInput;
using attest::cli::kExitVerificationFailed;

// `args` excludes the program name.
int Run(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace attest::ledger::cli
