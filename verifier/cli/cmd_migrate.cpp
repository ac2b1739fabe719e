// `verifier migrate`: a deployment's store and ledger from the SQLite files
// of its state directory into PostgreSQL (service/migrate.h).
#include <iostream>
#include <string>

#include "attest/encoding.h"
#include "attest/service/config.h"
#include "attest/service/migrate.h"
#include "attest/service/operations.h"

#include "cli/cli.h"

namespace attest::verifier::cli {
namespace {

using attest::cli::Command;
using attest::cli::Invocation;
using attest::cli::Start;
using attest::cli::StartCommand;

const Command kMigrate{
    "migrate",
    "verifier migrate --from STATE_DIR|--config FILE --to postgresql://...",
    "Copies the deployment in STATE_DIR (service.db and ledger.db, as `verifier\n"
    "init` makes them; with --config, where the configuration's state_dir and\n"
    "storage say) into an existing PostgreSQL database that holds none of\n"
    "the verifier's tables: every node, enrollment, certificate, token and\n"
    "policy, the ledger outbox and the CRL number (challenges are not copied:\n"
    "they expire within minutes), and the ledger row for row, which is then\n"
    "verified against STATE_DIR/ledger.pub and must have the source's size and\n"
    "root. Stop every verifier on STATE_DIR first: refused while one has it\n"
    "open. The URL carries no password (a passfile, PGPASSFILE, or the\n"
    "environment). On any failure the tables this run created are dropped\n"
    "again. Then set storage = \"postgresql://...\" in the verifier's\n"
    "configuration; STATE_DIR stays its state_dir (key files, CA, TLS). A\n"
    "STATE_DIR without challenge.key (made before the file existed) gets one\n"
    "first: every verifier on the database needs that same file.",
    {{"from", "STATE_DIR", "the state directory `verifier init` made"},
     {"config", "FILE", "the verifier's TOML configuration (instead of --from)"},
     {"to", "URL", "the PostgreSQL database (postgresql://..., no password)"}},
};

void PrintSummary(const service::MigrationSummary& summary, const std::string& state_dir,
                  const std::string& url, std::ostream& out) {
  out << "migrated " << state_dir << " to " << url << "\n";
  out << "service rows:";
  for (std::size_t i = 0; i < summary.service_rows.size(); ++i) {
    out << (i == 0 ? " " : ", ") << summary.service_rows[i].first << " "
        << summary.service_rows[i].second;
  }
  out << " (challenges are not copied)\n";
  out << "ledger: " << summary.ledger.entries
      << (summary.ledger.entries == 1 ? " entry, " : " entries, ") << summary.ledger.checkpoints
      << " checkpoint" << (summary.ledger.checkpoints == 1 ? "" : "s") << ", root "
      << Base64Encode(summary.ledger_root) << "; verified against " << state_dir << "/ledger.pub\n";
  out << "next: set storage = \"" << url << "\" in the verifier's configuration (state_dir "
      << "stays " << state_dir << ": its key, CA and TLS files are used as before) and start "
      << "the verifiers. service.db and ledger.db are no longer used: keep them as a backup, "
      << "but never start a verifier on them again.\n";
}

}  // namespace

int RunMigrate(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand("verifier", kMigrate, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const Invocation& run = *start.run;
  auto from = DeploymentOf(run, "from", "STATE_DIR");
  if (!from.ok()) return run.Fail(from.error());
  std::optional<std::string> to = run.flags.Value("to");
  if (!to || to->empty()) return run.Fail("--to is required");
  // Before the copy: on PostgreSQL every verifier signs its challenges with
  // this key, and the state directory is what the operator copies to them.
  Result<bool> made_key = service::EnsureChallengeKey(from->state_dir);
  if (!made_key.ok()) return run.Fail(made_key.error());
  if (*made_key) {
    out << "made " << service::StateLayout{from->state_dir}.challenge_key()
        << " (the challenge key every verifier on the database needs)\n";
  }
  auto summary = service::MigrateSqliteToPostgres(*from, *to);
  if (!summary.ok()) {
    if (summary.error().code == ErrorCode::kVerificationFailed) {
      err << "verifier migrate: " << summary.error().message << "\n";
      return attest::cli::kExitVerificationFailed;
    }
    return run.Fail(summary.error());
  }
  PrintSummary(*summary, from->state_dir, *to, out);
  return attest::cli::kExitOk;
}

}  // namespace attest::verifier::cli
