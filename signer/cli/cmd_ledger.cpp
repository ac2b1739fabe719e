// signer submit / revoke: signer statements into the audit ledger.
#include <string>

#include "attest/clock.h"
#include "attest/encoding.h"
#include "attest/ledger/ledger.h"
#include "attest/signer/ledger_records.h"
#include "attest/utf8.h"

#include "cli/cli.h"
#include "cli/cli_common.h"

namespace attest::signer::cli {
namespace {

constexpr const char* kDefaultActor = "signer";

const attest::cli::Command kSubmit{
    "submit",
    "signer submit ENVELOPE --ledger DB [--actor NAME]",
    "Appends a file envelope (FILE.sig.json) to the ledger DB as an\n"
    "artifact.approved, config.changed or policy.signed entry, by its purpose.\n"
    "The entry keeps the envelope's signature, so `ledger verify` re-checks it;\n"
    "an envelope whose signature does not verify is refused. Prints the entry's\n"
    "seq.",
    {{"ledger", "DB", "the ledger database (it must exist)"},
     {"actor", "NAME", "who submits, as recorded in the entry (default \"signer\")"}},
};

const attest::cli::Command kRevoke{
    "revoke",
    "signer revoke --sha256 HEX --key NAME.key --ledger DB [--reason TEXT] [--actor NAME] "
    "[--passphrase-file FILE | --passphrase-env VAR]",
    "Signs a revocation of the artifact with digest HEX and appends it to the\n"
    "ledger DB as an artifact.revoked entry. Prints the entry's seq.",
    {{"sha256", "HEX", "the revoked artifact's SHA-256 (64 lowercase hex digits)"},
     {"key", "NAME.key", "the signing key"},
     {"ledger", "DB", "the ledger database (it must exist)"},
     {"reason", "TEXT", "why, recorded with the revocation"},
     {"actor", "NAME", "who revokes, as recorded in the entry (default \"signer\")"},
     kPassphraseFileFlag,
     kPassphraseEnvFlag},
};

Result<ledger::Ledger> OpenLedger(const std::string& path) {
  return ledger::Ledger::Open(path).WithContext("ledger " + path);
}

// A well-formed input that the ledger refuses as unverifiable is a failed
// verification (exit 1), anything else bad input (exit 2).
int FailAppend(const attest::cli::Invocation& run, const Error& error) {
  run.Fail(error);
  return error.code == ErrorCode::kVerificationFailed ? attest::cli::kExitVerificationFailed
                                                      : attest::cli::kExitUsageOrInput;
}

}  // namespace

int RunSubmit(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("signer", kSubmit, args, out, err, 1);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  if (run.flags.positional().empty()) return run.Fail("name the ENVELOPE to submit");
  if (Status required = RequireFlags(run.flags, {"ledger"}); !required.ok()) {
    return run.Fail(required.error());
  }
  const std::string& path = run.flags.positional()[0];
  Result<Envelope> envelope = LoadEnvelope(path);
  if (!envelope.ok()) return run.Fail(envelope.error());
  Result<ledger::Ledger> ledger = OpenLedger(*run.flags.Value("ledger"));
  if (!ledger.ok()) return run.Fail(ledger.error());
  std::string actor = run.flags.Value("actor").value_or(kDefaultActor);
  LedgerSink sink(*ledger);
  Result<std::uint64_t> seq = sink.Submit(*envelope, actor);
  if (!seq.ok()) return FailAppend(run, seq.error().WithContext(path));
  out << "appended " << LedgerKindFor(envelope->purpose) << " for " << envelope->path
      << " (sha256:" << HexEncode(AsBytes(envelope->sha256)) << ", key " << envelope->key_id
      << ") as entry " << *seq << "\n";
  return attest::cli::kExitOk;
}

int RunRevoke(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("signer", kRevoke, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  if (Status required = RequireFlags(run.flags, {"sha256", "key", "ledger"}); !required.ok()) {
    return run.Fail(required.error());
  }
  if (Status sources = CheckPassphraseFlags(run.flags); !sources.ok()) {
    return run.Fail(sources.error());
  }
  Sha256Digest digest{};
  if (!DecodeLowercaseHex(*run.flags.Value("sha256"), digest)) {
    return run.Fail("--sha256: expected 64 lowercase hex digits");
  }
  std::optional<std::string> reason = run.flags.Value("reason");
  if (reason && (!IsValidUtf8(*reason) || reason->size() > kMaxReasonBytes)) {
    return run.Fail("--reason must be valid UTF-8 of at most " + std::to_string(kMaxReasonBytes) +
                    " bytes");
  }
  Result<ledger::Ledger> ledger = OpenLedger(*run.flags.Value("ledger"));
  if (!ledger.ok()) return run.Fail(ledger.error());
  Result<Ed25519PrivateKey> key = LoadSigningKey(run.flags);
  if (!key.ok()) return run.Fail(key.error());
  std::string actor = run.flags.Value("actor").value_or(kDefaultActor);
  LedgerSink sink(*ledger);
  Result<std::uint64_t> seq = sink.Revoke(digest, *key, reason, SystemClock().Now(), actor);
  if (!seq.ok()) return FailAppend(run, seq.error());
  out << "appended " << kRevokedKind << " for sha256:" << HexEncode(AsBytes(digest)) << " (key "
      << KeyIdOf(key->public_key()) << ") as entry " << *seq << "\n";
  return attest::cli::kExitOk;
}

}  // namespace attest::signer::cli
