// What every CLI here shares: one exit-code convention, a command's
// description and flags, and starting a command (flags parsed, --help
// answered, errors printed as "PROGRAM COMMAND: message").
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attest/error.h"
#include "attest/flags.h"

namespace attest::cli {

// Exit codes, the same for every command of every tool.
enum ExitCode : int {
  kExitOk = 0,
  kExitVerificationFailed = 1,  // the input is well-formed and fails its check
  kExitUsageOrInput = 2,
};

struct Command {
  std::string name;      // "append", "policy learn"
  std::string synopsis;  // "ledger append --kind KIND ..."
  std::string description;
  std::vector<FlagSpec> flags;
};

// The context one command runs in.
struct Invocation {
  std::string_view program;
  const Command& command;
  ParsedFlags flags;
  std::ostream& out;
  std::ostream& err;

  // Prints "<program> <command>: <message>" and returns kExitUsageOrInput.
  int Fail(const Error& error) const;
  int Fail(const std::string& message) const;
};

std::string Usage(const Command& command);

// Holds the Invocation to run, or (after printing help or the error) the
// exit code to return.
struct Start {
  std::optional<Invocation> run;
  int exit_code = kExitOk;
};
// Parses the command's flags; at most `max_positional` positional
// arguments. `program` must outlive the Invocation.
Start StartCommand(std::string_view program, const Command& command,
                   std::span<const std::string> args, std::ostream& out, std::ostream& err,
                   std::size_t max_positional);

// One subcommand of a tool: `name` and the function that runs it with the
// arguments after the name.
using CommandFunction = int (*)(std::span<const std::string> args, std::ostream& out,
                                std::ostream& err);
struct Subcommand {
  std::string_view name;
  CommandFunction run;
};

// Runs the subcommand args[0] names; prints `usage` for none (exit 2) or
// for --help, -h and help (exit 0), and names an unknown command.
int Dispatch(std::string_view program, std::string_view usage,
             std::span<const Subcommand> subcommands, std::span<const std::string> args,
             std::ostream& out, std::ostream& err);

}  // namespace attest::cli
