// ledger verify: the database, or an export offline.
#include <fstream>

#include "attest/encoding.h"
#include "attest/json.h"
#include "attest/ledger/verify.h"

#include "cli/cli_common.h"
#include "cli/commands.h"

namespace attest::ledger::cli {
namespace {

const Command kVerify{
    "verify",
    "ledger verify --db PATH [--key PUB] [--json]\n"
    "       ledger verify FILE --key PUB [--json]",
    "With --db: checks every entry's hash, the hash chain, entry signatures,\n"
    "every stored Merkle node and every stored checkpoint. With --key, also that\n"
    "the database's checkpoint key is PUB.\n"
    "With FILE: checks a JSON Lines export offline: seqs, entry and chain hashes,\n"
    "entry signatures, and that the checkpoint on the last line is signed by PUB\n"
    "and matches the Merkle root of the entries above it. Every problem is\n"
    "reported with its line (or seq) and what is wrong.",
    {DbFlag(),
     {"key", "PUB", "the ledger's verifier key (file or <name>+<id>+<key>)"},
     {"json", "", "print the result as JSON"}},
};

void PrintText(const VerifyReport& report, std::ostream& out) {
  if (report.ok()) {
    out << "verified: " << report.entries << " entries (" << report.signed_entries
        << " signed); hash chain and Merkle tree intact; " << report.checkpoints_verified
        << " checkpoint" << (report.checkpoints_verified == 1 ? "" : "s") << " verified\n";
    if (report.latest_checkpoint) {
      out << "latest checkpoint: " << report.latest_checkpoint->origin << " size "
          << report.latest_checkpoint->tree_size << " root "
          << Base64Encode(report.latest_checkpoint->root_hash) << "\n";
    } else {
      out << "warning: no signed checkpoint; only the entries' internal consistency was "
             "checked. Sign checkpoints (`ledger checkpoint`) and keep copies elsewhere.\n";
    }
    return;
  }
  out << "VERIFICATION FAILED: " << report.problem_count() << " problem"
      << (report.problem_count() == 1 ? "" : "s") << "\n";
  for (const VerifyProblem& problem : report.problems()) {
    out << "  " << problem.where << ": " << problem.what << "\n";
  }
  if (report.problem_count() > report.problems().size()) {
    out << "  ... and " << (report.problem_count() - report.problems().size()) << " more\n";
  }
}

void PrintJson(const VerifyReport& report, std::ostream& out) {
  Json problems = Json::array();
  for (const VerifyProblem& problem : report.problems()) {
    problems.push_back({{"where", problem.where}, {"what", problem.what}});
  }
  Json result = {{"ok", report.ok()},
                 {"entries", report.entries},
                 {"signed_entries", report.signed_entries},
                 {"checkpoints_verified", report.checkpoints_verified},
                 {"root_hash", HexEncode(report.root)},
                 {"problem_count", report.problem_count()},
                 {"problems", problems}};
  if (report.latest_checkpoint) {
    result["latest_checkpoint"] = {{"origin", report.latest_checkpoint->origin},
                                   {"tree_size", report.latest_checkpoint->tree_size},
                                   {"root_hash", HexEncode(report.latest_checkpoint->root_hash)}};
  }
  out << result.dump() << "\n";
}

}  // namespace

int RunVerify(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kVerify, args, out, err, 1);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;
  const auto& files = run.flags.positional();

  std::optional<NoteVerifier> key;
  if (auto key_text = run.flags.Value("key")) {
    auto loaded = LoadVerifierKey(*key_text);
    if (!loaded.ok()) return run.Fail(loaded.error());
    key = std::move(loaded).value();
  }
  VerifyReport report;
  if (files.empty()) {
    auto ledger = OpenLedger(run.flags, /*read_only=*/true);
    if (!ledger.ok()) return run.Fail(ledger.error());
    if (Status status = VerifyDatabase(*ledger, key, report); !status.ok()) {
      return run.Fail(status.error());
    }
  } else {
    if (run.flags.Has("db")) return run.Fail("give either --db or an export FILE, not both");
    if (!key)
      return run.Fail("--key PUB is required to verify an export: the ledger's verifier key");
    std::ifstream input(files[0], std::ios::binary);
    if (!input) return run.Fail(files[0] + ": cannot open for reading");
    if (Status status = VerifyExport(input, *key, report); !status.ok()) {
      return run.Fail(files[0] + ": " + status.error().message);
    }
  }
  if (run.flags.Has("json")) {
    PrintJson(report, out);
  } else {
    PrintText(report, out);
  }
  return report.ok() ? kExitOk : kExitVerificationFailed;
}

}  // namespace attest::ledger::cli
