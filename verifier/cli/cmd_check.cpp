// verifier check: one evidence document against an AK and a policy.
#include <string>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/verifier/verify.h"

#include "cli/cli.h"
#include "cli/cli_files.h"

namespace attest::verifier::cli {
namespace {

const attest::cli::Command kCheck{
    "check",
    "verifier check --evidence FILE --ak AK_PUBLIC --policy POLICY [--nonce HEX]",
    "Verifies an evidence document (DESIGN §3) offline: the quote's structure,\n"
    "its AK signature, the nonce, the PCR digest, boot-log and runtime-log replay,\n"
    "the policy, and the TPM clock state. Prints the verdict as JSON with every\n"
    "reason found. AK_PUBLIC is a TPM2B_PUBLIC file (`tpm2_createak -u`) or a\n"
    "PEM public key. Without --nonce freshness is not established: the verdict\n"
    "says \"nonce_checked\": false.\n"
    "Exit codes: 0 trusted, 1 untrusted, 2 bad input.",
    {{"evidence", "FILE", "the evidence JSON"},
     {"ak", "AK_PUBLIC", "the node's attestation key"},
     {"policy", "POLICY", "the policy JSON"},
     {"nonce", "HEX", "the challenge the node was given"}},
};

}  // namespace

int RunCheck(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("verifier", kCheck, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  for (const char* required : {"evidence", "ak", "policy"}) {
    if (!run.flags.Has(required)) return run.Fail(std::string("--") + required + " is required");
  }
  Result<Evidence> evidence = LoadEvidence(*run.flags.Value("evidence"));
  if (!evidence.ok()) return run.Fail(evidence.error());
  Result<AttestationKey> key = LoadAttestationKey(*run.flags.Value("ak"));
  if (!key.ok()) return run.Fail(key.error());
  Result<Policy> policy = LoadPolicy(*run.flags.Value("policy"));
  if (!policy.ok()) return run.Fail(policy.error());
  VerificationInput input{&*evidence, &*key, &*policy, std::nullopt, std::nullopt};
  if (std::optional<std::string> nonce = run.flags.Value("nonce")) {
    Result<Bytes> decoded = HexDecode(*nonce);
    if (!decoded.ok() || decoded->empty()) return run.Fail("--nonce: expected hex bytes");
    input.expected_nonce = std::move(decoded).value();
  } else {
    err << "verifier check: warning: no --nonce given, so the evidence's freshness is not "
           "checked\n";
  }
  Verdict verdict = VerifyEvidence(input);
  out << VerdictToJson(verdict).dump(2) << "\n";
  return verdict.trusted ? attest::cli::kExitOk : attest::cli::kExitVerificationFailed;
}

}  // namespace attest::verifier::cli
