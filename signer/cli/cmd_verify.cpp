// signer verify / verify-dir: envelopes against files, trees and trusted
// keys.
#include <string>
#include <vector>

#include "attest/signer/directory.h"
#include "attest/signer/public_key.h"
#include "attest/signer/verify.h"

#include "cli/cli.h"
#include "cli/cli_common.h"

namespace attest::signer::cli {
namespace {

const attest::cli::Command kVerify{
    "verify",
    "signer verify FILE --sig FILE.sig.json --trusted KEYS --purpose PURPOSE",
    "Checks FILE against its envelope: the signing key must be trusted (KEYS is a\n"
    ".pub/.pem file or a directory of them), the signature must verify, the\n"
    "envelope must have been signed for PURPOSE (required: a signature is valid\n"
    "only for the use it was made for), and FILE's digest and size must match.\n"
    "Prints \"valid\" or the first failure: untrusted_key, bad_signature,\n"
    "wrong_purpose or file_changed.\n"
    "Exit codes: 0 valid, 1 invalid, 2 bad input (unreadable file, malformed\n"
    "envelope or key).",
    {{"sig", "FILE.sig.json", "the envelope"},
     {"trusted", "KEYS", "a trusted .pub/.pem file, or a directory of them"},
     {"purpose", "PURPOSE", "what the signature must approve: artifact, config or policy"}},
};

const attest::cli::Command kVerifyDir{
    "verify-dir",
    "signer verify-dir DIR --sig DIR.sig.json --trusted KEYS --purpose PURPOSE",
    "Checks a directory envelope (signer sign-dir) like `signer verify`, then\n"
    "compares its manifest with DIR as it is now and lists every file added,\n"
    "removed or changed since it was signed.\n"
    "Exit codes: 0 valid and unchanged, 1 invalid or changed, 2 bad input.",
    {{"sig", "DIR.sig.json", "the directory envelope"},
     {"trusted", "KEYS", "a trusted .pub/.pem file, or a directory of them"},
     {"purpose", "PURPOSE", "what the signature must approve: artifact, config or policy"}},
};

struct VerifyInputs {
  Envelope envelope;
  TrustedKeys trusted;
  Purpose purpose = Purpose::kArtifact;
};

Result<VerifyInputs> LoadInputs(const ParsedFlags& flags) {
  ATTEST_RETURN_IF_ERROR(RequireFlags(flags, {"sig", "trusted"}));
  if (!flags.Has("purpose")) {
    // No default: a config or policy signature must never pass where the
    // caller forgot to say what it expects.
    return MakeError(ErrorCode::kInvalidArgument,
                     "--purpose is required: name what the signature must approve (artifact, "
                     "config or policy)");
  }
  VerifyInputs inputs;
  ATTEST_ASSIGN_OR_RETURN(inputs.purpose, PurposeFlag(flags, "purpose"));
  ATTEST_ASSIGN_OR_RETURN(inputs.envelope, LoadEnvelope(*flags.Value("sig")));
  ATTEST_ASSIGN_OR_RETURN(inputs.trusted, LoadTrustedKeys(*flags.Value("trusted")));
  return inputs;
}

void PrintVerdict(std::ostream& out, const std::string& target, const Envelope& envelope,
                  const VerifyResult& verdict) {
  if (verdict.valid()) {
    out << target << ": valid: " << PurposeName(envelope.purpose) << " signed by key "
        << envelope.key_id << " at " << envelope.time << "\n";
  } else {
    out << target << ": invalid: " << VerifyReasonName(verdict.reason) << ": " << verdict.detail
        << "\n";
  }
}

void PrintPaths(std::ostream& out, const char* label, const std::vector<std::string>& paths) {
  for (const std::string& path : paths) out << "  " << label << " " << path << "\n";
}

}  // namespace

int RunVerify(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("signer", kVerify, args, out, err, 1);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  if (run.flags.positional().empty()) return run.Fail("name the FILE to verify");
  const std::string& file = run.flags.positional()[0];
  Result<VerifyInputs> inputs = LoadInputs(run.flags);
  if (!inputs.ok()) return run.Fail(inputs.error());
  if (inputs->envelope.manifest) {
    return run.Fail(*run.flags.Value("sig") + " signs a directory; use `signer verify-dir`");
  }
  Result<VerifyResult> verdict =
      VerifyFile(file, inputs->envelope, inputs->trusted, inputs->purpose);
  if (!verdict.ok()) return run.Fail(verdict.error());
  PrintVerdict(out, file, inputs->envelope, *verdict);
  return VerdictExitCode(verdict->valid());
}

int RunVerifyDir(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("signer", kVerifyDir, args, out, err, 1);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  if (run.flags.positional().empty()) return run.Fail("name the DIR to verify");
  const std::string& directory = run.flags.positional()[0];
  Result<VerifyInputs> inputs = LoadInputs(run.flags);
  if (!inputs.ok()) return run.Fail(inputs.error());
  if (!inputs->envelope.manifest) {
    return run.Fail(*run.flags.Value("sig") + " signs a single file; use `signer verify`");
  }
  Result<DirectoryVerifyResult> result =
      VerifyDirectory(directory, inputs->envelope, inputs->trusted, inputs->purpose);
  if (!result.ok()) return run.Fail(result.error());
  if (result->diff.empty()) {
    PrintVerdict(out, directory, inputs->envelope, result->verdict);
  } else {
    out << directory << ": invalid: " << VerifyReasonName(result->verdict.reason)
        << ": the tree changed since it was signed\n";
    PrintPaths(out, "added", result->diff.added);
    PrintPaths(out, "removed", result->diff.removed);
    PrintPaths(out, "changed", result->diff.changed);
  }
  return VerdictExitCode(result->verdict.valid());
}

}  // namespace attest::signer::cli
