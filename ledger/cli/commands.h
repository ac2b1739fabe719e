// One function per ledger command; each parses its own flags.
#pragma once

#include <ostream>
#include <span>
#include <string>

namespace attest::ledger::cli {

using CommandArgs = std::span<const std::string>;

int RunInit(CommandArgs args, std::ostream& out, std::ostream& err);
int RunAppend(CommandArgs args, std::ostream& out, std::ostream& err);
int RunList(CommandArgs args, std::ostream& out, std::ostream& err);
int RunShow(CommandArgs args, std::ostream& out, std::ostream& err);
int RunCheckpoint(CommandArgs args, std::ostream& out, std::ostream& err);
int RunProof(CommandArgs args, std::ostream& out, std::ostream& err);
int RunExport(CommandArgs args, std::ostream& out, std::ostream& err);
int RunVerify(CommandArgs args, std::ostream& out, std::ostream& err);

}  // namespace attest::ledger::cli
