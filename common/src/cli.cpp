#include "attest/cli.h"

namespace attest::cli {

int Invocation::Fail(const Error& error) const { return Fail(error.message); }

int Invocation::Fail(const std::string& message) const {
  err << program << " " << command.name << ": " << message << "\n";
  return kExitUsageOrInput;
}

std::string Usage(const Command& command) {
  return "Usage: " + command.synopsis + "\n\n" + command.description + "\n\n" +
         FormatFlagHelp(command.flags) +
         "\nExit codes: 0 success, 1 verification failed, 2 usage or input error.\n";
}

Start StartCommand(std::string_view program, const Command& command,
                   std::span<const std::string> args, std::ostream& out, std::ostream& err,
                   std::size_t max_positional) {
  auto parsed = ParseFlags(args, command.flags);
  if (!parsed.ok()) {
    err << program << " " << command.name << ": " << parsed.error().message << " (see `" << program
        << " " << command.name << " --help`)\n";
    return {std::nullopt, kExitUsageOrInput};
  }
  if (parsed->help()) {
    out << Usage(command);
    return {std::nullopt, kExitOk};
  }
  Invocation run{program, command, std::move(parsed).value(), out, err};
  if (run.flags.positional().size() > max_positional) {
    return {std::nullopt,
            run.Fail("unexpected argument " + run.flags.positional()[max_positional])};
  }
  return {std::move(run), kExitOk};
}

int Dispatch(std::string_view program, std::string_view usage,
             std::span<const Subcommand> subcommands, std::span<const std::string> args,
             std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << usage;
    return kExitUsageOrInput;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    out << usage;
    return kExitOk;
  }
  for (const Subcommand& subcommand : subcommands) {
    if (subcommand.name == command) return subcommand.run(args.subspan(1), out, err);
  }
  err << program << ": unknown command \"" << command << "\" (see `" << program << " --help`)\n";
  return kExitUsageOrInput;
}

}  // namespace attest::cli
