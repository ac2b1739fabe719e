#include "cli/cli.h"

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
    "$ATTEST_LEDGER_DB. Exit codes: 0 success, 1 verification failed,\n"
    "2 usage or input error. Formats: ledger/FORMAT.md.\n";

}  // namespace

int Run(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return kExitUsageOrInput;
  }
  const std::string& command = args[0];
  CommandArgs rest = args.subspan(1);
  if (command == "--help" || command == "-h" || command == "help") {
    out << kUsage;
    return kExitOk;
  }
  if (command == "init") return RunInit(rest, out, err);
  if (command == "append") return RunAppend(rest, out, err);
  if (command == "list") return RunList(rest, out, err);
  if (command == "show") return RunShow(rest, out, err);
  if (command == "checkpoint") return RunCheckpoint(rest, out, err);
  if (command == "proof") return RunProof(rest, out, err);
  if (command == "export") return RunExport(rest, out, err);
  if (command == "verify") return RunVerify(rest, out, err);
  err << "ledger: unknown command \"" << command << "\" (see `ledger --help`)\n";
  return kExitUsageOrInput;
}

}  // namespace attest::ledger::cli
