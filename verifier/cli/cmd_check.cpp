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
    "verifier check --evidence FILE --ak AK_PUBLIC --policy POLICY\n"
    "                (--nonce HEX | --no-nonce) [--allow-bare-ak]",
    "Verifies an evidence document offline: the quote's structure, its AK\n"
    "signature, the nonce, the PCR digest, boot-log and runtime-log replay, the\n"
    "policy, and the TPM clock state. Prints the verdict as JSON with every\n"
    "reason found (docs/reason-codes.md). AK_PUBLIC is the AK's TPM2B_PUBLIC\n"
    "(`tpm2_createak -u`), whose attributes must make it an AK.\n"
    "Without a challenge nothing shows the quote is fresh: the verdict is\n"
    "untrusted (NONCE_NOT_CHECKED) unless --no-nonce says you accept that, and\n"
    "then says \"nonce_checked\": false. A bare PEM public key is accepted as the\n"
    "AK only with --allow-bare-ak, and the verdict says \"ak_attributes_checked\":\n"
    "false: nothing then shows the key lives in a TPM and signs only TPM quotes.\n"
    "Exit codes: 0 trusted, 1 untrusted, 2 bad input.",
    {{"evidence", "FILE", "the evidence JSON"},
     {"ak", "AK_PUBLIC", "the node's attestation key (TPM2B_PUBLIC)"},
     {"policy", "POLICY", "the policy JSON"},
     {"nonce", "HEX", "the challenge the node was given"},
     {"no-nonce", "", "check without a challenge: freshness is not established"},
     {"allow-bare-ak", "", "accept a PEM public key as the AK, its attributes unchecked"}},
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
  Result<AttestationKey> key = LoadAttestationKey(
      *run.flags.Value("ak"), {.allow_bare_public_key = run.flags.Has("allow-bare-ak")});
  if (!key.ok()) return run.Fail(key.error());
  Result<Policy> policy = LoadPolicy(*run.flags.Value("policy"));
  if (!policy.ok()) return run.Fail(policy.error());
  VerificationInput input{*evidence, *key, *policy, std::nullopt, std::nullopt};
  if (run.flags.Has("nonce") && run.flags.Has("no-nonce")) {
    return run.Fail("--nonce and --no-nonce exclude each other");
  }
  if (std::optional<std::string> nonce = run.flags.Value("nonce")) {
    Result<Bytes> decoded = HexDecode(*nonce);
    if (!decoded.ok() || decoded->empty()) return run.Fail("--nonce: expected hex bytes");
    input.expected_nonce = std::move(decoded).value();
  } else if (run.flags.Has("no-nonce")) {
    input.allow_unchecked_freshness = true;
    err << "verifier check: warning: --no-nonce: the evidence's freshness is not checked\n";
  }
  Verdict verdict = VerifyEvidence(input);
  out << VerdictToJson(verdict).dump(2) << "\n";
  return verdict.trusted ? attest::cli::kExitOk : attest::cli::kExitVerificationFailed;
}

}  // namespace attest::verifier::cli
