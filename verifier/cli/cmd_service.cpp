// The service's commands: `verifier init`, `verifier serve`, `verifier
// token create|revoke`, `verifier node approve|allow-reenroll`.
#include <csignal>
#include <iostream>
#include <string>

#include <malloc.h>
#include <pthread.h>

#include "attest/http/server.h"
#include "attest/service/config.h"
#include "attest/service/operations.h"
#include "attest/service/service.h"

#include "cli/cli.h"
#include "cli/serve_notify.h"

namespace attest::verifier::cli {
namespace {

using attest::cli::Command;
using attest::cli::Invocation;
using attest::cli::Start;
using attest::cli::StartCommand;

const FlagSpec kStateDirFlag{"state-dir", "DIR", "the state directory `verifier init` made"};
// The CLI's changes reach the deployment the service's configuration names:
// its state directory and its storage (a PostgreSQL deployment needs it).
const FlagSpec kDeploymentConfigFlag{"config", "FILE",
                                     "the verifier's TOML configuration (instead of --state-dir)"};

const Command kInit{
    "init",
    "verifier init --state-dir DIR [--storage URL|DIR] [--ca-chain PEM --ca-key PEM]\n"
    "              [--server-name NAME,...] [--origin NAME]",
    "Creates the service's state directory (0700): the store (service.db), the\n"
    "ledger (ledger.db) and its checkpoint key (ledger.key, ledger.pub), the CA\n"
    "(a new self-signed one, or the operator's intermediate given by --ca-chain\n"
    "and --ca-key), the server's TLS certificate (tls.pem, tls.key), the webhook\n"
    "signing key (webhook.key), the challenge key (challenge.key: on PostgreSQL\n"
    "every verifier needs the same) and one admin API token, printed once on stdout and\n"
    "stored only hashed. Refuses a directory that exists and is not empty.\n"
    "With --storage postgresql://... the store and the ledger are made in that\n"
    "(existing) database instead, as the configuration's `storage` key then names\n"
    "it; refused when it holds a verifier's ledger already. A second verifier on\n"
    "that database gets a copy of this state directory, not another init.",
    {kStateDirFlag,
     {"storage", "URL|DIR", "a postgresql:// URL (no password), or a directory for the files"},
     {"ca-chain", "PEM", "the operator's CA chain, the CA first"},
     {"ca-key", "PEM", "that CA's private key"},
     {"server-name", "NAME,...", "SANs of the TLS certificate (default 127.0.0.1,::1,localhost)"},
     {"origin", "NAME", "the ledger's name (default <hostname>/attest-verifier)"}},
};

const Command kServe{
    "serve",
    "verifier serve --config FILE",
    "Serves the /v1 REST API over HTTPS as the TOML configuration says\n"
    "(verifier/README.md). SIGTERM or SIGINT: finishes the requests in flight,\n"
    "stops background work and exits 0.",
    {{"config", "FILE", "the TOML configuration"}},
};

const Command kTokenCreate{
    "token create",
    "verifier token create --state-dir DIR|--config FILE --role reader|operator|admin\n"
    "                      [--label TEXT]",
    "Creates an API token and prints it once (only its hash is stored).",
    {kStateDirFlag,
     kDeploymentConfigFlag,
     {"role", "ROLE", "reader, operator or admin"},
     {"label", "TEXT", "what it is for"}},
};

const Command kTokenRevoke{
    "token revoke",
    "verifier token revoke TOKEN_ID --state-dir DIR|--config FILE",
    "Revokes an API token by its id (the part after vt_ and before the next _).",
    {kStateDirFlag, kDeploymentConfigFlag},
};

const Command kNodeApprove{
    "node approve",
    "verifier node approve NODE_ID --state-dir DIR|--config FILE",
    "Approves a node waiting for approval, or lets a revoked node attest again.",
    {kStateDirFlag, kDeploymentConfigFlag},
};

const Command kNodeAllowReenroll{
    "node allow-reenroll",
    "verifier node allow-reenroll NODE_ID --state-dir DIR|--config FILE [--minutes N]",
    "Lets the node's EK enroll once more with a new AK within N minutes (default\n"
    "60). Its certificates are revoked when it does. Recorded in the ledger.",
    {kStateDirFlag, kDeploymentConfigFlag, {"minutes", "N", "how long the window stays open"}},
};

Result<std::string> RequiredFlag(const Invocation& run, const std::string& name) {
  std::optional<std::string> value = run.flags.Value(name);
  if (!value || value->empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--" + name + " is required");
  }
  return *value;
}

}  // namespace

Result<service::DeploymentLocation> DeploymentOf(const Invocation& run, const std::string& dir_flag,
                                                 const std::string& dir_metavar) {
  std::optional<std::string> config_path = run.flags.Value("config");
  std::optional<std::string> state_dir = run.flags.Value(dir_flag);
  if (config_path && state_dir) {
    return MakeError(ErrorCode::kInvalidArgument, "give --" + dir_flag + " or --config, not both");
  }
  if (config_path) {
    ATTEST_ASSIGN_OR_RETURN(service::ServiceConfig config,
                            service::LoadServiceConfig(*config_path));
    return service::DeploymentLocation(config.state_dir, config.storage);
  }
  if (!state_dir || state_dir->empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--" + dir_flag + " " + dir_metavar +
                         " or --config FILE is required (--config for a "
                         "deployment whose storage is PostgreSQL)");
  }
  return service::DeploymentLocation(*state_dir);
}

namespace {

std::vector<std::string> SplitNames(const std::string& text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) names.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return names;
}

int RunInit(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand("verifier", kInit, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const Invocation& run = *start.run;
  auto dir = RequiredFlag(run, "state-dir");
  if (!dir.ok()) return run.Fail(dir.error());
  service::InitOptions options;
  options.state_dir = *dir;
  options.ca_chain_path = run.flags.Value("ca-chain");
  options.ca_key_path = run.flags.Value("ca-key");
  if (auto names = run.flags.Value("server-name")) options.server_names = SplitNames(*names);
  options.ledger_origin = run.flags.Value("origin").value_or("");
  options.storage = run.flags.Value("storage").value_or("");
  SystemClock clock;
  auto token = service::InitStateDirectory(options, clock);
  if (!token.ok()) return run.Fail(token.error());
  err << "initialized " << *dir << "; the admin token follows (shown once, stored only hashed)\n";
  out << *token << "\n";
  return attest::cli::kExitOk;
}

// glibc gives the free top of a thread's heap back to the kernel once it
// passes 128 KiB, and maps blocks from 128 KiB up on their own: at this
// server's allocation churn that is an madvise or munmap (a TLB shootdown
// on every core) and a regrowth every few requests. Under
// bench/service_load that was ~10% of the verifier's CPU profile, and
// these settings cut its CPU per attestation by about a quarter. Up to 8
// MiB kept per arena, and blocks under 1 MiB (every evidence document
// short of a long first-contact boot log) from the heap, cost a few MiB.
void TuneAllocatorForServing() {
  ::mallopt(M_TRIM_THRESHOLD, 8 << 20);
  ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

int RunServe(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand("verifier", kServe, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const Invocation& run = *start.run;
  auto path = RequiredFlag(run, "config");
  if (!path.ok()) return run.Fail(path.error());
  auto config = service::LoadServiceConfig(*path);
  if (!config.ok()) return run.Fail(config.error());

  // Block the signals before any thread starts, so every thread inherits the
  // mask and only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  TuneAllocatorForServing();
  SystemClock clock;
  auto opened = service::Service::Open(*config, clock);
  if (!opened.ok()) return run.Fail(opened.error());
  std::unique_ptr<service::Service> service = std::move(opened).value();
  http::ServerOptions options = service::ServerOptionsFor(*config, *service);
  service::Service* handler = service.get();
  auto server = http::Server::Start(
      options, [handler](const http::Request& request) { return handler->Handle(request); });
  if (!server.ok()) return run.Fail(server.error());
  const std::string serving =
      "serving on " + config->listen + " (port " + std::to_string((*server)->port()) + "), " +
      std::to_string(options.threads) + (options.threads == 1 ? " thread" : " threads");
  err << "verifier: " << serving << "\n";
  err.flush();
  NotifyServing(serving, err);

  int received = 0;
  sigwait(&signals, &received);
  const std::string stopping =
      std::string(received == SIGTERM ? "SIGTERM" : "SIGINT") + ": draining connections";
  err << "verifier: " << stopping << "\n";
  NotifyStopping(stopping, err);
  (*server)->Drain(std::chrono::seconds(10));
  service->Shutdown();
  err << "verifier: stopped\n";
  return attest::cli::kExitOk;
}

int RunTokenCreate(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand("verifier", kTokenCreate, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const Invocation& run = *start.run;
  auto where = DeploymentOf(run, "state-dir", "DIR");
  if (!where.ok()) return run.Fail(where.error());
  auto role_name = RequiredFlag(run, "role");
  if (!role_name.ok()) return run.Fail(role_name.error());
  std::optional<service::Role> role = service::ParseRole(*role_name);
  if (!role) return run.Fail("--role: reader, operator or admin");
  SystemClock clock;
  auto token = service::CreateToken(*where, *role, run.flags.Value("label").value_or(""), clock);
  if (!token.ok()) return run.Fail(token.error());
  err << "token " << token->record.token_id << " (" << *role_name
      << "); shown once, stored only hashed:\n";
  out << token->token << "\n";
  return attest::cli::kExitOk;
}

// The commands that take one positional id and --state-dir or --config.
int RunWithId(const Command& command, CommandArgs args, std::ostream& out, std::ostream& err,
              Status (*action)(const Invocation&, const service::DeploymentLocation&,
                               const std::string&)) {
  Start start = StartCommand("verifier", command, args, out, err, 1);
  if (!start.run) return start.exit_code;
  const Invocation& run = *start.run;
  if (run.flags.positional().size() != 1) return run.Fail("give exactly one id");
  auto where = DeploymentOf(run, "state-dir", "DIR");
  if (!where.ok()) return run.Fail(where.error());
  Status done = action(run, *where, run.flags.positional()[0]);
  if (!done.ok()) return run.Fail(done.error());
  out << "done\n";
  return attest::cli::kExitOk;
}

}  // namespace

int RunInitCommand(CommandArgs args, std::ostream& out, std::ostream& err) {
  return RunInit(args, out, err);
}
int RunServeCommand(CommandArgs args, std::ostream& out, std::ostream& err) {
  return RunServe(args, out, err);
}

int RunToken(CommandArgs args, std::ostream& out, std::ostream& err) {
  static const SystemClock clock;
  if (!args.empty() && args[0] == "create") return RunTokenCreate(args.subspan(1), out, err);
  if (!args.empty() && args[0] == "revoke") {
    return RunWithId(kTokenRevoke, args.subspan(1), out, err,
                     [](const Invocation&, const service::DeploymentLocation& where,
                        const std::string& id) { return service::RevokeToken(where, id, clock); });
  }
  err << "verifier token: expected `create` or `revoke` (see --help of each)\n";
  return attest::cli::kExitUsageOrInput;
}

int RunNode(CommandArgs args, std::ostream& out, std::ostream& err) {
  static const SystemClock clock;
  if (!args.empty() && args[0] == "approve") {
    return RunWithId(kNodeApprove, args.subspan(1), out, err,
                     [](const Invocation&, const service::DeploymentLocation& where,
                        const std::string& id) { return service::ApproveNode(where, id, clock); });
  }
  if (!args.empty() && args[0] == "allow-reenroll") {
    return RunWithId(kNodeAllowReenroll, args.subspan(1), out, err,
                     [](const Invocation& run, const service::DeploymentLocation& where,
                        const std::string& id) -> Status {
                       std::uint64_t minutes = 60;
                       if (auto text = run.flags.Value("minutes")) {
                         ATTEST_ASSIGN_OR_RETURN(minutes, ParseUnsigned(*text, "--minutes"));
                       }
                       return service::AllowReenroll(where, id, std::chrono::minutes(minutes),
                                                     clock);
                     });
  }
  err << "verifier node: expected `approve` or `allow-reenroll` (see --help of each)\n";
  return attest::cli::kExitUsageOrInput;
}

}  // namespace attest::verifier::cli
