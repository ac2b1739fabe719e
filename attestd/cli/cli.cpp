#include "cli/cli.h"

#include <array>
#include <string_view>

#include "attest/attestd/daemon.h"
#include "attest/cli.h"

namespace attest::attestd::cli {
namespace {

constexpr std::string_view kUsage =
    "attestd: keeps this host attested to the verifier with its TPM, and its node\n"
    "certificate fresh.\n"
    "\n"
    "Usage: attestd COMMAND --config FILE [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  run        the daemon: enroll, then attest every interval (systemd Type=notify)\n"
    "  status     one screen: TPM, node, enrollment, last verdict, certificate, runtime\n"
    "  evidence   write an evidence document for `verifier check` or `policy learn`\n"
    "\n"
    "Every command takes --help. Exit codes: 0 success / trusted, 1 failure or not\n"
    "trusted, 2 usage or configuration error.\n";

const attest::cli::Command kRun{
    "run",
    "attestd run --config FILE",
    "Runs the daemon in the foreground (under systemd: Type=notify). Enrolls the\n"
    "TPM with the verifier once, then every interval: measures the runtime files\n"
    "into their PCR, asks for a challenge, quotes, posts the evidence, and installs\n"
    "the node certificate it gets back (renewed at two thirds of its lifetime).\n"
    "Failures are retried with exponential backoff; each is logged once. SIGTERM\n"
    "stops it (exit 0); SIGHUP reloads the configuration.",
    {{"config", "FILE", "the configuration (attestd.toml)"}},
};

}  // namespace

int RunDaemonCommand(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("attestd", kRun, args, out, err, 0);
  if (!start.run) return start.exit_code;
  std::optional<std::string> config = start.run->flags.Value("config");
  if (!config) return start.run->Fail("--config is required");
  return RunDaemon(*config, err);
}

int Run(CommandArgs args, std::ostream& out, std::ostream& err) {
  static constexpr std::array<attest::cli::Subcommand, 3> kSubcommands = {{
      {"evidence", RunEvidence},
      {"run", RunDaemonCommand},
      {"status", RunStatus},
  }};
  return attest::cli::Dispatch("attestd", kUsage, kSubcommands, args, out, err);
}

}  // namespace attest::attestd::cli
