// ledger list and ledger show.
#include <limits>

#include "attest/json.h"
#include "attest/ledger/export.h"

#include "cli/cli_common.h"
#include "cli/commands.h"

namespace attest::ledger::cli {
namespace {

const Command kList{
    "list",
    "ledger list --db PATH [--from SEQ] [--limit N] [--kind KIND] [--json]",
    "Lists entries in seq order: seq, time, kind, actor, signing key id and the\n"
    "start of the payload. --json prints each entry as its export line.",
    {DbFlag(),
     {"from", "SEQ", "first seq to list (default 1)"},
     {"limit", "N", "list at most N entries"},
     {"kind", "KIND", "only entries of this kind"},
     {"json", "", "one JSON object per line, in the export format"}},
};

const Command kShow{
    "show",
    "ledger show SEQ --db PATH",
    "Prints one entry, with its hashes and signature, as JSON.",
    {DbFlag()},
};

std::string Abbreviate(const std::string& text, std::size_t width) {
  if (text.size() <= width) return text;
  std::size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // UTF-8
  return text.substr(0, cut) + "...";
}

void PrintRow(const Entry& entry, std::ostream& out) {
  out << entry.seq << "  " << entry.content.time << "  " << entry.content.kind << "  "
      << entry.content.actor;
  if (entry.content.signature)
    out << "  [signed " << KeyIdOf(entry.content.signature->public_key) << "]";
  out << "  " << Abbreviate(entry.content.payload, 80) << "\n";
}

}  // namespace

int RunList(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kList, args, out, err, 0);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;
  std::uint64_t from = 1;
  std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
  if (auto text = run.flags.Value("from")) {
    auto value = ParseUnsigned(*text, "--from");
    if (!value.ok()) return run.Fail(value.error());
    from = std::max<std::uint64_t>(*value, 1);
  }
  if (auto text = run.flags.Value("limit")) {
    auto value = ParseUnsigned(*text, "--limit");
    if (!value.ok()) return run.Fail(value.error());
    limit = *value;
  }
  auto kind = run.flags.Value("kind");
  if (kind) {
    if (Status syntax = CheckKindSyntax(*kind); !syntax.ok()) return run.Fail(syntax.error());
  }
  auto ledger = OpenLedger(run.flags, /*read_only=*/true);
  if (!ledger.ok()) return run.Fail(ledger.error());
  auto cursor = ledger->store().ScanEntries(from, std::numeric_limits<std::int64_t>::max());
  if (!cursor.ok()) return run.Fail(cursor.error());
  Entry entry;
  std::string line;
  for (std::uint64_t shown = 0; shown < limit;) {
    auto next = (*cursor)->Next(entry);
    if (!next.ok()) return run.Fail(next.error());
    if (!*next) break;
    if (kind && entry.content.kind != *kind) continue;
    ++shown;
    if (run.flags.Has("json")) {
      line.clear();
      AppendEntryLine(entry, line);
      out << line << "\n";
    } else {
      PrintRow(entry, out);
    }
  }
  return kExitOk;
}

int RunShow(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kShow, args, out, err, 1);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;
  if (run.flags.positional().size() != 1) return run.Fail("give exactly one SEQ");
  auto seq = RequiredSeq(run.flags, 0, "SEQ");
  if (!seq.ok()) return run.Fail(seq.error());
  auto ledger = OpenLedger(run.flags, /*read_only=*/true);
  if (!ledger.ok()) return run.Fail(ledger.error());
  auto entry = ledger->Get(*seq);
  if (!entry.ok()) return run.Fail(entry.error());
  std::string line;
  AppendEntryLine(*entry, line);
  auto parsed = ParseJsonStrict(line);
  if (!parsed.ok()) return run.Fail(parsed.error());
  (*parsed)["leaf_index"] = *seq - 1;
  out << PrettyJson(*parsed) << "\n";
  return kExitOk;
}

}  // namespace attest::ledger::cli
