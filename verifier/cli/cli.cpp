#include "cli/cli.h"

#include <array>
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
    "The REST service:\n"
    "  init           create a state directory (store, ledger, CA, TLS, admin token)\n"
    "  serve          serve the /v1 API over HTTPS (--config FILE)\n"
    "  token create|revoke          manage API tokens (--state-dir DIR)\n"
    "  node approve|allow-reenroll  operator actions on a node (--state-dir DIR)\n"
    "  migrate        copy a SQLite state directory into PostgreSQL (--from DIR --to URL)\n"
    "\n"
    "Every command takes --help. Exit codes: 0 trusted / success, 1 untrusted,\n"
    "2 usage or input error.\n";

}  // namespace

int Run(CommandArgs args, std::ostream& out, std::ostream& err) {
  static constexpr std::array<attest::cli::Subcommand, 9> kSubcommands = {{
      {"check", RunCheck},
      {"eventlog", RunEventLog},
      {"imalog", RunImaLog},
      {"init", RunInitCommand},
      {"migrate", RunMigrate},
      {"node", RunNode},
      {"policy", RunPolicy},
      {"serve", RunServeCommand},
      {"token", RunToken},
  }};
  return attest::cli::Dispatch("verifier", kUsage, kSubcommands, args, out, err);
}

}  // namespace attest::verifier::cli
