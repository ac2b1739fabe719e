// verifier policy learn: a draft policy from known-good evidence.
#include <string>

#include "attest/file.h"
#include "attest/verifier/policy_learn.h"

#include "cli/cli.h"
#include "cli/cli_files.h"

namespace attest::verifier::cli {
namespace {

const attest::cli::Command kLearn{
    "policy learn",
    "verifier policy learn --evidence FILE --ak AK_PUBLIC [--out POLICY] [--name NAME]\n"
    "                      [--allow-bare-ak]",
    "Drafts a policy from one node's known-good evidence: the quoted PCR\n"
    "selection, the boot PCR values as reference values, secure boot required if\n"
    "it is on, the digests of PCR 4's extends (boot applications), the value the\n"
    "firmware leaves in the runtime PCR if it extends it, and the runtime files as\n"
    "required paths with their digests allowed. The evidence must verify on its\n"
    "own (AK signature, PCR digest, log replay) or nothing is written. Review the\n"
    "draft before you sign it: it allows exactly this node's current state.",
    {{"evidence", "FILE", "the evidence JSON"},
     {"ak", "AK_PUBLIC", "the node's attestation key: its TPM2B_PUBLIC"},
     {"out", "POLICY", "write the draft here (default: stdout)"},
     {"name", "NAME", "the policy's name"},
     {"allow-bare-ak", "", "accept a PEM public key as the AK, unchecked (see `verifier check`)"}},
};

}  // namespace

int RunPolicy(CommandArgs args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] != "learn") {
    err << "verifier policy: expected `verifier policy learn` (see `verifier policy learn "
           "--help`)\n";
    return attest::cli::kExitUsageOrInput;
  }
  attest::cli::Start start =
      attest::cli::StartCommand("verifier", kLearn, args.subspan(1), out, err, 0);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  for (const char* required : {"evidence", "ak"}) {
    if (!run.flags.Has(required)) return run.Fail(std::string("--") + required + " is required");
  }
  Result<Evidence> evidence = LoadEvidence(*run.flags.Value("evidence"));
  if (!evidence.ok()) return run.Fail(evidence.error());
  Result<AttestationKey> key = LoadAttestationKey(
      *run.flags.Value("ak"), {.allow_bare_public_key = run.flags.Has("allow-bare-ak")});
  if (!key.ok()) return run.Fail(key.error());
  Result<Policy> draft = LearnPolicy(*evidence, *key);
  if (!draft.ok()) {
    run.Fail(draft.error());
    return draft.error().code == ErrorCode::kVerificationFailed
               ? attest::cli::kExitVerificationFailed
               : attest::cli::kExitUsageOrInput;
  }
  draft->name = run.flags.Value("name").value_or("");
  std::string text = PolicyToJson(*draft).dump(2) + "\n";
  if (std::optional<std::string> path = run.flags.Value("out")) {
    Status written = WriteFileAtomically(*path, text, 0644);
    if (!written.ok()) return run.Fail(written.error());
    err << "verifier policy learn: wrote a draft to " << *path
        << "; review it, then sign it before it takes effect\n";
  } else {
    out << text;
  }
  return attest::cli::kExitOk;
}

}  // namespace attest::verifier::cli
