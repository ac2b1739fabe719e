// The `attestd` command line: run (the daemon), status, evidence.
#pragma once

#include <ostream>
#include <span>
#include <string>

namespace attest::attestd::cli {

using CommandArgs = std::span<const std::string>;

int Run(CommandArgs args, std::ostream& out, std::ostream& err);
int RunDaemonCommand(CommandArgs args, std::ostream& out, std::ostream& err);
int RunStatus(CommandArgs args, std::ostream& out, std::ostream& err);
int RunEvidence(CommandArgs args, std::ostream& out, std::ostream& err);

}  // namespace attest::attestd::cli
