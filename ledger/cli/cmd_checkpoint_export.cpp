// ledger checkpoint and ledger export.
#include <iostream>

#include "attest/file.h"
#include "attest/ledger/export.h"

#include "cli/cli_common.h"
#include "cli/commands.h"

namespace attest::ledger::cli {
namespace {

const FlagSpec kKeyFlag{"key", "FILE",
                        "secret checkpoint key (default: <db>.key; required with a "
                        "postgresql:// --db)"};

const Command kCheckpoint{
    "checkpoint",
    "ledger checkpoint --db PATH [--key FILE]\n"
    "       ledger checkpoint --db PATH --latest",
    "Signs a checkpoint (tree size and root, c2sp.org/tlog-checkpoint) of the\n"
    "current tree with the ledger's key, stores it and prints the signed note.\n"
    "Publish checkpoints outside this host: a checkpoint someone else holds is\n"
    "what makes rewriting this database detectable. --latest prints the most\n"
    "recent stored checkpoint without signing (no key needed).",
    {DbFlag(), kKeyFlag, {"latest", "", "print the latest stored checkpoint"}},
};

const Command kExport{
    "export",
    "ledger export --db PATH [--format jsonl|csv] [--out FILE] [--checkpoint [--key FILE]]",
    "Writes every entry the latest checkpoint covers, oldest first. JSON Lines\n"
    "(the default) ends with the checkpoint line and is what `ledger verify FILE\n"
    "--key PUB` checks offline. CSV is a view for spreadsheets: it cannot be\n"
    "verified, and cells a spreadsheet would run as formulas are prefixed with '.\n"
    "--checkpoint signs a fresh checkpoint first, so the export covers every entry.",
    {DbFlag(),
     {"format", "FORMAT", "jsonl (default) or csv"},
     {"out", "FILE", "write to FILE atomically (default: stdout)"},
     {"checkpoint", "", "sign a checkpoint of the current tree first (needs the key)"},
     kKeyFlag},
};

}  // namespace

int RunCheckpoint(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kCheckpoint, args, out, err, 0);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;
  const bool latest_only = run.flags.Has("latest");
  if (latest_only && run.flags.Has("key")) return run.Fail("--latest needs no --key");
  auto ledger = OpenLedger(run.flags, /*read_only=*/latest_only);
  if (!ledger.ok()) return run.Fail(ledger.error());
  if (latest_only) {
    auto latest = ledger->LatestCheckpoint();
    if (!latest.ok()) return run.Fail(latest.error());
    if (!*latest) return run.Fail("the ledger has no checkpoint yet: run `ledger checkpoint`");
    out << (*latest)->note;
    return kExitOk;
  }
  auto key_path = SecretKeyPath(run.flags, *DatabasePath(run.flags));
  if (!key_path.ok()) return run.Fail(key_path.error());
  auto signer = LoadSigner(*key_path);
  if (!signer.ok()) return run.Fail(signer.error());
  auto checkpoint = ledger->SignCheckpoint(*signer);
  if (!checkpoint.ok()) return run.Fail(checkpoint.error());
  out << checkpoint->note;
  return kExitOk;
}

int RunExport(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kExport, args, out, err, 0);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;
  const std::string format_name = run.flags.Value("format").value_or("jsonl");
  ExportFormat format = ExportFormat::kJsonLines;
  if (format_name == "csv") {
    format = ExportFormat::kCsv;
  } else if (format_name != "jsonl") {
    return run.Fail("--format must be jsonl or csv, got \"" + format_name + "\"");
  }
  const bool sign_first = run.flags.Has("checkpoint");
  if (run.flags.Has("key") && !sign_first) return run.Fail("--key is only used with --checkpoint");

  auto ledger = OpenLedger(run.flags, /*read_only=*/!sign_first);
  if (!ledger.ok()) return run.Fail(ledger.error());
  if (sign_first) {
    auto key_path = SecretKeyPath(run.flags, *DatabasePath(run.flags));
    if (!key_path.ok()) return run.Fail(key_path.error());
    auto signer = LoadSigner(*key_path);
    if (!signer.ok()) return run.Fail(signer.error());
    if (auto signed_checkpoint = ledger->SignCheckpoint(*signer); !signed_checkpoint.ok()) {
      return run.Fail(signed_checkpoint.error());
    }
  }
  auto checkpoint = ledger->LatestCheckpoint();
  if (!checkpoint.ok()) return run.Fail(checkpoint.error());
  if (!*checkpoint) {
    return run.Fail(
        "the ledger has no checkpoint yet: run `ledger checkpoint` first, or pass "
        "--checkpoint");
  }
  auto size = ledger->Size();
  if (!size.ok()) return run.Fail(size.error());
  if (*size > (*checkpoint)->tree_size) {
    err << "ledger export: note: the " << (*size - (*checkpoint)->tree_size)
        << " entries appended after the latest checkpoint are not exported; run `ledger "
           "checkpoint` (or pass --checkpoint) to include them\n";
  }
  if (auto path = run.flags.Value("out")) {
    auto writer = AtomicFileWriter::Create(*path, 0644);
    if (!writer.ok()) return run.Fail(writer.error());
    if (Status written = WriteExport(*ledger, **checkpoint, format, writer->stream());
        !written.ok()) {
      return run.Fail(written.error());
    }
    if (Status committed = writer->Commit(); !committed.ok()) return run.Fail(committed.error());
    err << "ledger export: wrote " << (*checkpoint)->tree_size << " entries to " << *path << "\n";
    return kExitOk;
  }
  if (Status written = WriteExport(*ledger, **checkpoint, format, out); !written.ok()) {
    return run.Fail(written.error());
  }
  return kExitOk;
}

}  // namespace attest::ledger::cli
