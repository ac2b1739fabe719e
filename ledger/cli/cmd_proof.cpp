// ledger proof inclusion | consistency | verify.
#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/json.h"
#include "attest/ledger/export.h"
#include "attest/ledger/verify.h"

#include "cli/cli_common.h"
#include "cli/commands.h"

namespace attest::ledger::cli {
namespace {

const Command kInclusion{
    "proof inclusion",
    "ledger proof inclusion SEQ --db PATH [--size N]",
    "Prints, as JSON, the RFC 9162 inclusion proof of entry SEQ in the tree of\n"
    "N entries, with the entry itself and, when one exists at that size, the\n"
    "signed checkpoint. Without --size: the latest checkpoint's size when it\n"
    "covers SEQ, else the current size. Check it offline with `ledger proof verify`.",
    {DbFlag(), {"size", "N", "tree size to prove against"}},
};

const Command kConsistency{
    "proof consistency",
    "ledger proof consistency OLD NEW --db PATH",
    "Prints, as JSON, the RFC 9162 consistency proof that the tree of NEW\n"
    "entries extends the tree of OLD entries, with both roots and any signed\n"
    "checkpoints at those sizes.",
    {DbFlag()},
};

const Command kProofVerify{
    "proof verify",
    "ledger proof verify FILE --key PUB",
    "Verifies a proof printed by `ledger proof inclusion|consistency` offline:\n"
    "the entry hash, the proof, and the checkpoint signatures by PUB (a file\n"
    "holding the verifier key, or the key itself). Exit 1 when anything fails,\n"
    "including a root that no checkpoint in the file signs.",
    {{"key", "PUB", "the ledger's verifier key (file or <name>+<id>+<key>)"}},
};

Json HashArray(const std::vector<Hash>& hashes) {
  Json array = Json::array();
  for (const Hash& hash : hashes) array.push_back(HexEncode(hash));
  return array;
}

void AddCheckpointIfStored(Ledger& ledger, std::uint64_t size, const char* field, Json& out) {
  auto stored = ledger.store().CheckpointAt(size);
  if (stored.ok() && *stored) out[field] = (*stored)->note;
}

int RunInclusion(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kInclusion, args, out, err, 1);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;
  if (run.flags.positional().size() != 1) return run.Fail("give exactly one SEQ");
  auto seq = RequiredSeq(run.flags, 0, "SEQ");
  if (!seq.ok()) return run.Fail(seq.error());
  auto ledger = OpenLedger(run.flags, /*read_only=*/true);
  if (!ledger.ok()) return run.Fail(ledger.error());

  std::uint64_t size = 0;
  if (auto text = run.flags.Value("size")) {
    auto value = ParseUnsigned(*text, "--size");
    if (!value.ok()) return run.Fail(value.error());
    size = *value;
  } else {
    auto latest = ledger->LatestCheckpoint();
    auto current = ledger->Size();
    if (!latest.ok() || !current.ok()) {
      return run.Fail(latest.ok() ? current.error() : latest.error());
    }
    size = (*latest && (*latest)->tree_size >= *seq) ? (*latest)->tree_size : *current;
  }
  auto proof = ledger->ProveInclusion(*seq, size);
  if (!proof.ok()) return run.Fail(proof.error());
  auto entry = ledger->Get(*seq);
  auto root = ledger->RootAt(size);
  if (!entry.ok() || !root.ok()) return run.Fail(entry.ok() ? root.error() : entry.error());
  std::string line;
  AppendEntryLine(*entry, line);
  Json result = {{"type", "inclusion"},
                 {"seq", *seq},
                 {"leaf_index", *seq - 1},
                 {"tree_size", size},
                 {"leaf_hash", HexEncode(entry->entry_hash)},
                 {"root_hash", HexEncode(*root)},
                 {"proof", HashArray(*proof)},
                 {"entry", ParseJsonStrict(line).value()}};
  AddCheckpointIfStored(*ledger, size, "checkpoint", result);
  out << PrettyJson(result) << "\n";
  return kExitOk;
}

int RunConsistency(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kConsistency, args, out, err, 2);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;
  if (run.flags.positional().size() != 2) return run.Fail("give OLD and NEW tree sizes");
  auto old_size = RequiredSeq(run.flags, 0, "OLD");
  auto new_size = RequiredSeq(run.flags, 1, "NEW");
  if (!old_size.ok()) return run.Fail(old_size.error());
  if (!new_size.ok()) return run.Fail(new_size.error());
  auto ledger = OpenLedger(run.flags, /*read_only=*/true);
  if (!ledger.ok()) return run.Fail(ledger.error());
  auto proof = ledger->ProveConsistency(*old_size, *new_size);
  if (!proof.ok()) return run.Fail(proof.error());
  auto old_root = ledger->RootAt(*old_size);
  auto new_root = ledger->RootAt(*new_size);
  if (!old_root.ok() || !new_root.ok()) {
    return run.Fail(old_root.ok() ? new_root.error() : old_root.error());
  }
  Json result = {{"type", "consistency"},
                 {"old_size", *old_size},
                 {"new_size", *new_size},
                 {"old_root", HexEncode(*old_root)},
                 {"new_root", HexEncode(*new_root)},
                 {"proof", HashArray(*proof)}};
  AddCheckpointIfStored(*ledger, *old_size, "old_checkpoint", result);
  AddCheckpointIfStored(*ledger, *new_size, "new_checkpoint", result);
  out << PrettyJson(result) << "\n";
  return kExitOk;
}

}  // namespace

// Declared in proof_verify.cpp.
int VerifyProofDocument(const Json& document, const NoteVerifier& key, std::ostream& out);

int RunProof(CommandArgs args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::ostream& stream = args.empty() ? err : out;
    stream << "Usage: ledger proof inclusion SEQ --db PATH [--size N]\n"
              "       ledger proof consistency OLD NEW --db PATH\n"
              "       ledger proof verify FILE --key PUB\n"
              "Run `ledger proof <subcommand> --help` for details.\n";
    return args.empty() ? kExitUsageOrInput : kExitOk;
  }
  CommandArgs rest = args.subspan(1);
  if (args[0] == "inclusion") return RunInclusion(rest, out, err);
  if (args[0] == "consistency") return RunConsistency(rest, out, err);
  if (args[0] == "verify") {
    Start start = StartCommand(kProofVerify, rest, out, err, 1);
    if (!start.run) return start.exit_code;
    Invocation& run = *start.run;
    if (run.flags.positional().size() != 1) return run.Fail("give exactly one proof FILE");
    auto key_text = run.flags.Value("key");
    if (!key_text) return run.Fail("--key PUB is required: the ledger's verifier key");
    auto key = LoadVerifierKey(*key_text);
    if (!key.ok()) return run.Fail(key.error());
    auto text = ReadFile(run.flags.positional()[0], 64u << 20);
    if (!text.ok()) return run.Fail(text.error());
    auto document = ParseJsonStrict(*text);
    if (!document.ok())
      return run.Fail(run.flags.positional()[0] + ": " + document.error().message);
    return VerifyProofDocument(*document, *key, out);
  }
  err << "ledger proof: unknown subcommand \"" << args[0]
      << "\" (use inclusion, consistency or verify)\n";
  return kExitUsageOrInput;
}

}  // namespace attest::ledger::cli
