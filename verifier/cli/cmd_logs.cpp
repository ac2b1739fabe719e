// verifier eventlog / imalog: the operator's view of a measurement log.
#include <array>
#include <string>

#include "attest/verifier/event_log.h"
#include "attest/verifier/ima_log.h"

#include "cli/cli.h"
#include "cli/cli_files.h"

namespace attest::verifier::cli {
namespace {

const attest::cli::Command kEventLog{
    "eventlog",
    "verifier eventlog FILE [--json]",
    "Parses a TCG PC Client firmware event log (binary_bios_measurements: SHA-1\n"
    "or crypto-agile) and prints every event (PCR, type, digests, decoded data)\n"
    "and the PCR values it replays to, per bank. A malformed log is rejected\n"
    "with the byte offset of the field at fault.",
    {{"json", "", "print {\"events\": [...], \"pcrs\": {...}} instead of text"}},
};

const attest::cli::Command kImaLog{
    "imalog",
    "verifier imalog FILE [--json] [--lenient] [--template-digest-size 20|32]",
    "Parses a Linux IMA measurement list (binary or ASCII; templates ima,\n"
    "ima-ng, ima-sig), checks every record's template digest, and prints the\n"
    "records and the PCR values (sha1 and sha256 banks) they replay to. A\n"
    "malformed list is rejected with the byte offset or line at fault.",
    {{"json", "", "print {\"entries\": [...], \"pcrs\": {...}} instead of text"},
     {"lenient", "", "ignore a tail too short for a record header, as tpm2-tss does"},
     {"template-digest-size", "BYTES",
      "20 for classic lists, 32 for *_runtime_measurements_sha256 (default: detect)"}},
};

// A log input is needed exactly once, positional.
const std::string* RequireFile(const attest::cli::Invocation& run) {
  if (run.flags.positional().size() != 1) return nullptr;
  return run.flags.positional().data();
}

}  // namespace

int RunEventLog(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("verifier", kEventLog, args, out, err, 1);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  const std::string* path = RequireFile(run);
  if (path == nullptr) return run.Fail("expected the event log FILE");
  Result<Bytes> bytes = LoadBytes(*path, kMaxLogFileBytes);
  if (!bytes.ok()) return run.Fail(bytes.error());
  Result<EventLog> log = ParseEventLog(*bytes);
  if (!log.ok()) return run.Fail(log.error().WithContext(*path));
  tpm::PcrValues replayed = ReplayEventLog(*log);
  if (run.flags.Has("json")) {
    out << EventLogToJson(*log, replayed).dump(2) << "\n";
  } else {
    out << RenderEventLogText(*log, replayed);
  }
  return attest::cli::kExitOk;
}

int RunImaLog(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("verifier", kImaLog, args, out, err, 1);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  const std::string* path = RequireFile(run);
  if (path == nullptr) return run.Fail("expected the IMA measurement list FILE");
  ImaLogOptions options;
  options.allow_trailing_partial_header = run.flags.Has("lenient");
  if (std::optional<std::string> size = run.flags.Value("template-digest-size")) {
    if (*size != "20" && *size != "32") return run.Fail("--template-digest-size: 20 or 32");
    options.template_digest_size = *size == "20" ? 20 : 32;
  }
  Result<Bytes> bytes = LoadBytes(*path, kMaxLogFileBytes);
  if (!bytes.ok()) return run.Fail(bytes.error());
  Result<ImaLog> log = ParseImaLog(*bytes, options);
  if (!log.ok()) return run.Fail(log.error().WithContext(*path));
  const std::array<std::uint16_t, 2> banks = {TPM2_ALG_SHA1, TPM2_ALG_SHA256};
  Result<tpm::PcrValues> replayed = ReplayImaLog(*log, banks);
  if (!replayed.ok()) {
    // A record that does not hash to its own template digest was edited.
    int code = run.Fail(replayed.error().WithContext(*path));
    return replayed.error().code == ErrorCode::kVerificationFailed
               ? attest::cli::kExitVerificationFailed
               : code;
  }
  if (run.flags.Has("json")) {
    out << ImaLogToJson(*log, *replayed).dump(2) << "\n";
  } else {
    out << RenderImaLogText(*log, *replayed);
  }
  return attest::cli::kExitOk;
}

}  // namespace attest::verifier::cli
