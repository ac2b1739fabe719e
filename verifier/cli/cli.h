// The `verifier` command line (offline checks). main() only forwards argv
// here, so tests can run it in-process.
#pragma once

#include <ostream>
#include <span>
#include <string>

#include "attest/cli.h"
#include "attest/service/operations.h"

namespace attest::verifier::cli {

using CommandArgs = std::span<const std::string>;

// `args` excludes the program name. Exit codes: attest::cli::ExitCode.
int Run(CommandArgs args, std::ostream& out, std::ostream& err);

int RunCheck(CommandArgs args, std::ostream& out, std::ostream& err);
int RunEventLog(CommandArgs args, std::ostream& out, std::ostream& err);
int RunImaLog(CommandArgs args, std::ostream& out, std::ostream& err);
int RunPolicy(CommandArgs args, std::ostream& out, std::ostream& err);
// The service (cmd_service.cpp).
int RunInitCommand(CommandArgs args, std::ostream& out, std::ostream& err);
int RunServeCommand(CommandArgs args, std::ostream& out, std::ostream& err);
int RunToken(CommandArgs args, std::ostream& out, std::ostream& err);
int RunNode(CommandArgs args, std::ostream& out, std::ostream& err);
// cmd_migrate.cpp
int RunMigrate(CommandArgs args, std::ostream& out, std::ostream& err);

// The deployment a service command works on: --DIR_FLAG (a SQLite state
// directory; DIR_METAVAR names it in the error), or --config FILE (its
// state_dir and storage), not both.
Result<service::DeploymentLocation> DeploymentOf(const attest::cli::Invocation& run,
                                                 const std::string& dir_flag,
                                                 const std::string& dir_metavar);

}  // namespace attest::verifier::cli
