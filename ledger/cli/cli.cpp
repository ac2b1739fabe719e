#include "cli/cli.h"

#include <array>
#include <string_view>

#include "cli/commands.h"

namespace attest::ledger::cli {
namespace {

constexpr std::string_view kUsage =
    "ledger: the append-only, hash-chained, Merkle-proved audit ledger.\n"
    "\n"
    "Usage: ledger COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  init                      create a ledger database and its checkpoint key\n"
    "  append                    append an entry (or a batch, atomically)\n"
    "  list                      list entries\n"
    "  show SEQ                  show one entry with its hashes\n"
    "  checkpoint                sign a checkpoint of the current tree\n"
    "  proof inclusion SEQ       prove an entry is in the tree\n"
    "  proof consistency OLD NEW prove the tree only grew\n"
    "  proof verify FILE         check a proof offline\n"
    "  export                    write JSON Lines (verifiable) or CSV\n"
    "  verify                    verify the database, or an export offline\n"
    "\n"
    "Every command takes --help. The database comes from --db PATH or\n"
    "$ATTEST_LEDGER_DB: a SQLite file, or a postgresql:// URL (no password in\n"
    "it: libpq reads PGPASSFILE; sslmode and PGSSLROOTCERT are honoured). The\n"
    "checkpoint key files are never in the database: beside a SQLite file by\n"
    "default (<db>.key, <db>.pub); with a URL, files the operator provisions\n"
    "on each signing host, named by --key (and init's --pub).\n"
    "Exit codes: 0 success, 1 verification failed,\n"
    "2 usage or input error. Formats: ledger/FORMAT.md.\n";

}  // namespace

int Run(CommandArgs args, std::ostream& out, std::ostream& err) {
  static constexpr std::array<attest::cli::Subcommand, 8> kSubcommands = {{
      {"init", RunInit},
      {"append", RunAppend},
      {"list", RunList},
      {"show", RunShow},
      {"checkpoint", RunCheckpoint},
      {"proof", RunProof},
      {"export", RunExport},
      {"verify", RunVerify},
  }};
  return attest::cli::Dispatch("ledger", kUsage, kSubcommands, args, out, err);
}

}  // namespace attest::ledger::cli
