#include "cli/cli.h"

#include <string_view>

namespace attest::verifier::cli {
namespace {

constexpr std::string_view kUsage =
    "verifier: checks TPM evidence (quotes, boot and runtime logs) against a policy.\n"
    "\n"
    "Usage: verifier COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  check          verify an evidence document offline; prints the verdict as JSON\n"
    "  eventlog FILE  show a TCG firmware event log and the PCRs it replays to\n"
    "  imalog FILE    show a Linux IMA measurement list and its PCR 10\n"
    "  policy learn   draft a policy from known-good evidence\n"
    "\n"
    "Every command takes --help. Exit codes: 0 trusted / success, 1 untrusted,\n"
    "2 usage or input error.\n";

}  // namespace

int Run(CommandArgs args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return attest::cli::kExitUsageOrInput;
  }
  const std::string& command = args[0];
  CommandArgs rest = args.subspan(1);
  if (command == "--help" || command == "-h" || command == "help") {
    out << kUsage;
    return attest::cli::kExitOk;
  }
  if (command == "check") return RunCheck(rest, out, err);
  if (command == "eventlog") return RunEventLog(rest, out, err);
  if (command == "imalog") return RunImaLog(rest, out, err);
  if (command == "policy") return RunPolicy(rest, out, err);
  err << "verifier: unknown command \"" << command << "\" (see `verifier --help`)\n";
  return attest::cli::kExitUsageOrInput;
}

}  // namespace attest::verifier::cli
