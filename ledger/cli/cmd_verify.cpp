// ledger verify: the database, or an export offline, optionally against a
// checkpoint and a size the auditor holds from elsewhere.
#include <fstream>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/json.h"
#include "attest/ledger/verify.h"

#include "cli/cli_common.h"
#include "cli/commands.h"

namespace attest::ledger::cli {
namespace {

const Command kVerify{
    "verify",
    "ledger verify --db PATH [--key PUB] [--checkpoint FILE] [--min-size N] [--json]\n"
    "       ledger verify FILE --key PUB [--checkpoint FILE] [--min-size N] [--json]",
    "With --db: checks every entry's hash, the hash chain, entry signatures,\n"
    "every stored Merkle node and every stored checkpoint. With --key, also that\n"
    "the database's checkpoint key is PUB; without it the database's own key is\n"
    "trusted, which shows nothing against someone who can rewrite the database\n"
    "and its key.\n"
    "With FILE: checks a JSON Lines export offline: seqs, entry and chain hashes,\n"
    "entry signatures, and that the checkpoint on the last line is signed by PUB\n"
    "and matches the Merkle root of the entries above it. Every problem is\n"
    "reported with its line (or seq) and what is wrong.\n"
    "Neither can show on its own that entries were not cut from the end: an\n"
    "export of an earlier checkpoint is itself valid. --checkpoint FILE takes a\n"
    "signed checkpoint, exactly as `ledger checkpoint` prints it, that the\n"
    "auditor obtained elsewhere (published, witnessed, or kept from an earlier\n"
    "review): it must verify under the key, and the entries must extend it (at\n"
    "least its size, and its root over that many entries). --min-size N requires\n"
    "at least N entries. Either failing exits 1, naming the sizes.",
    {DbFlag(),
     {"key", "PUB", "the ledger's verifier key (file or <name>+<id>+<key>)"},
     {"checkpoint", "FILE", "a signed checkpoint kept from earlier: the ledger must extend it"},
     {"min-size", "N", "the ledger must hold at least N entries"},
     {"json", "", "print the result as JSON"}},
};

// The auditor's --checkpoint and --min-size. A file that cannot be read or is
// not a checkpoint note is an input error (returned); a checkpoint that does
// not verify under `key` is a verification failure, added to `report`.
Result<TrustedReference> LoadReference(const ParsedFlags& flags, const NoteVerifier& key,
                                       VerifyReport& report) {
  TrustedReference reference;
  if (auto min_size = flags.Value("min-size")) {
    ATTEST_ASSIGN_OR_RETURN(reference.min_size, ParseUnsigned(*min_size, "--min-size"));
  }
  auto path = flags.Value("checkpoint");
  if (!path) return reference;
  reference.checkpoint_source = *path;
  auto note = ReadFile(*path, kMaxNoteBytes);
  if (!note.ok()) return note.error().WithContext("--checkpoint");
  auto checkpoint = OpenCheckpoint(*note, key);
  if (checkpoint.ok()) {
    reference.checkpoint = std::move(checkpoint).value();
  } else if (checkpoint.error().code == ErrorCode::kVerificationFailed) {
    report.Add("trusted checkpoint " + *path, checkpoint.error().message);
  } else {
    return checkpoint.error().WithContext("--checkpoint " + *path);
  }
  return reference;
}

// What the result does not show, in words for the auditor.
std::vector<std::string> Warnings(const VerifyReport& report, const TrustedReference& reference,
                                  bool database_key_trusted) {
  std::vector<std::string> warnings;
  if (database_key_trusted) {
    warnings.emplace_back(
        "no --key: the database's own checkpoint key was trusted, so this shows nothing against "
        "someone who can rewrite the database and its key. Pass --key PUB with a copy of the "
        "key kept elsewhere.");
  }
  if (report.ok() && !reference.checkpoint && reference.min_size == 0) {
    warnings.emplace_back(
        "nothing here shows that entries were not removed from the end: an export of an earlier "
        "checkpoint verifies too. Pass --checkpoint with a checkpoint kept from earlier, or "
        "--min-size.");
  }
  return warnings;
}

void PrintReference(const TrustedReference& reference, std::ostream& out) {
  if (reference.checkpoint) {
    out << "extends the trusted checkpoint " << reference.checkpoint_source << ": size "
        << reference.checkpoint->tree_size << " root "
        << Base64Encode(reference.checkpoint->root_hash) << "\n";
  }
  if (reference.min_size > 0) {
    out << "holds at least the required " << reference.min_size << " entries\n";
  }
}

void PrintText(const VerifyReport& report, const TrustedReference& reference,
               const std::vector<std::string>& warnings, std::ostream& out) {
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
    PrintReference(reference, out);
  } else {
    out << "VERIFICATION FAILED: " << report.problem_count() << " problem"
        << (report.problem_count() == 1 ? "" : "s") << "\n";
    for (const VerifyProblem& problem : report.problems()) {
      out << "  " << problem.where << ": " << problem.what << "\n";
    }
    if (report.problem_count() > report.problems().size()) {
      out << "  ... and " << (report.problem_count() - report.problems().size()) << " more\n";
    }
  }
  for (const std::string& warning : warnings) out << "warning: " << warning << "\n";
}

void PrintJson(const VerifyReport& report, const TrustedReference& reference,
               const std::vector<std::string>& warnings, std::ostream& out) {
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
                 {"problems", problems},
                 {"warnings", warnings}};
  if (report.latest_checkpoint) {
    result["latest_checkpoint"] = {{"origin", report.latest_checkpoint->origin},
                                   {"tree_size", report.latest_checkpoint->tree_size},
                                   {"root_hash", HexEncode(report.latest_checkpoint->root_hash)}};
  }
  if (reference.checkpoint) {
    result["trusted_checkpoint"] = {{"source", reference.checkpoint_source},
                                    {"tree_size", reference.checkpoint->tree_size},
                                    {"root_hash", HexEncode(reference.checkpoint->root_hash)}};
  }
  if (reference.min_size > 0) result["min_size"] = reference.min_size;
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
  TrustedReference reference;
  if (files.empty()) {
    auto ledger = OpenLedger(run.flags, /*read_only=*/true);
    if (!ledger.ok()) return run.Fail(ledger.error());
    // Without --key, a trusted checkpoint can only be opened with the
    // database's key; one the real key signed still fails if that was swapped.
    auto loaded = LoadReference(run.flags, key ? *key : ledger->checkpoint_key(), report);
    if (!loaded.ok()) return run.Fail(loaded.error());
    reference = std::move(loaded).value();
    if (Status status = VerifyDatabase(*ledger, key, report, reference); !status.ok()) {
      return run.Fail(status.error());
    }
  } else {
    if (run.flags.Has("db")) return run.Fail("give either --db or an export FILE, not both");
    if (!key)
      return run.Fail("--key PUB is required to verify an export: the ledger's verifier key");
    auto loaded = LoadReference(run.flags, *key, report);
    if (!loaded.ok()) return run.Fail(loaded.error());
    reference = std::move(loaded).value();
    std::ifstream input(files[0], std::ios::binary);
    if (!input) return run.Fail(files[0] + ": cannot open for reading");
    if (Status status = VerifyExport(input, *key, report, reference); !status.ok()) {
      return run.Fail(files[0] + ": " + status.error().message);
    }
  }
  const std::vector<std::string> warnings = Warnings(report, reference, files.empty() && !key);
  if (run.flags.Has("json")) {
    PrintJson(report, reference, warnings, out);
  } else {
    PrintText(report, reference, warnings, out);
  }
  return report.ok() ? kExitOk : kExitVerificationFailed;
}

}  // namespace attest::ledger::cli
