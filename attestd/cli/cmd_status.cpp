// attestd status: what a person on the host wants to know, on one screen,
// from the state directory alone (the running daemon holds the TPM).
#include <ctime>
#include <map>
#include <string>

#include "attest/attestd/config.h"
#include "attest/attestd/daemon_log.h"
#include "attest/attestd/node_certificate.h"
#include "attest/attestd/node_state.h"
#include "attest/cli.h"
#include "attest/clock.h"
#include "attest/encoding.h"
#include "attest/runtime/log.h"

#include "cli/cli.h"

namespace attest::attestd::cli {
namespace {

const attest::cli::Command kStatus{
    "status",
    "attestd status --config FILE",
    "Shows the TPM attestd uses, the node id, the enrollment, the last verdict with\n"
    "its reasons, the certificate and its expiry, and the runtime measurements.\n"
    "Reads the state directory only. Exit code 0 when the last verdict was\n"
    "trusted, 1 otherwise.",
    {{"config", "FILE", "the configuration (attestd.toml)"}},
};

std::string Relative(std::int64_t then, std::int64_t now) {
  const std::int64_t delta = then - now;
  const std::int64_t magnitude = delta < 0 ? -delta : delta;
  std::string amount = magnitude < 120    ? std::to_string(magnitude) + " s"
                       : magnitude < 7200 ? std::to_string(magnitude / 60) + " min"
                                          : std::to_string(magnitude / 3600) + " h";
  return delta < 0 ? amount + " ago" : "in " + amount;
}

// Values carry the verifier's words and file names: printed without
// control characters, so nothing in them can drive the terminal.
void Row(std::ostream& out, std::string_view label, std::string_view value) {
  out << label;
  for (std::size_t i = label.size(); i < 13; ++i) out << ' ';
  out << Printable(value, 1024) << "\n";
}

}  // namespace

int RunStatus(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("attestd", kStatus, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  if (!run.flags.Has("config")) return run.Fail("--config is required");
  Result<AttestdConfig> config = LoadAttestdConfig(*run.flags.Value("config"));
  if (!config.ok()) return run.Fail(config.error());
  const std::int64_t now = std::time(nullptr);

  Result<std::optional<NodeIdentity>> identity = LoadIdentity(config->state_dir);
  if (!identity.ok()) return run.Fail(identity.error());
  Row(out, "TPM",
      config->tcti + (config->ek_algorithm == EkAlgorithm::kRsa ? " (RSA EK)" : " (ECC EK)"));
  Row(out, "verifier", VerifierUrls(*config));
  if (!*identity) {
    Row(out, "node", "no identity yet (attestd has not run)");
    return attest::cli::kExitVerificationFailed;
  }
  Row(out, "node_id", (*identity)->node_id);
  Row(out, "enrollment",
      (*identity)->enrolled ? "enrolled (enrollment " + (*identity)->enrollment_id + ")"
                            : "not enrolled yet");

  Result<std::optional<AttestationStatus>> status = LoadStatus(config->state_dir);
  if (!status.ok()) return run.Fail(status.error());
  bool trusted = false;
  if (*status) {
    const AttestationStatus& last = **status;
    trusted = last.state == "trusted";
    Row(out, "last attempt",
        FormatRfc3339UtcSeconds(last.time) + " (" + Relative(last.time, now) + ")");
    Row(out, "state", last.state);
    for (const ReasonSummary& reason : last.reasons) {
      Row(out, "  reason", reason.code + (reason.detail.empty() ? "" : ": " + reason.detail));
    }
    if (!last.problem.empty()) Row(out, "problem", last.problem);
    if (last.last_trusted > 0) {
      Row(out, "last trusted",
          FormatRfc3339UtcSeconds(last.last_trusted) + " (" + Relative(last.last_trusted, now) +
              ")");
    }
  } else {
    Row(out, "state", "no attestation yet");
  }

  Result<std::optional<InstalledCertificate>> certificate =
      ReadInstalledCertificate(config->certificate_dir);
  if (!certificate.ok()) {
    Row(out, "certificate", certificate.error().message);
  } else if (!*certificate) {
    Row(out, "certificate", "none in " + config->certificate_dir);
  } else {
    const InstalledCertificate& installed = **certificate;
    Row(out, "certificate", installed.subject);
    if (!installed.spiffe_id.empty()) Row(out, "  SPIFFE ID", installed.spiffe_id);
    Row(out, "  expires",
        FormatRfc3339UtcSeconds(installed.not_after) + " (" + Relative(installed.not_after, now) +
            ")" + (installed.not_after <= now ? ", EXPIRED" : ""));
    Row(out, "  files", config->certificate_dir + "/node.pem, node-key.pem");
  }

  Result<runtime::RuntimeLog> log = runtime::LoadRuntimeLog(config->runtime_log);
  if (!log.ok()) {
    Row(out, "runtime", log.error().message);
  } else {
    Row(out, "runtime",
        std::to_string(log->entries.size()) + " measurements into PCR " + std::to_string(log->pcr) +
            " (" + config->runtime_log + ")");
    // The last measurement of each path: what the node runs now.
    std::map<std::string, const runtime::RuntimeEntry*> latest;
    for (const runtime::RuntimeEntry& entry : log->entries) latest[entry.path] = &entry;
    for (const auto& [path, entry] : latest) {
      Row(out, "",
          path + "  " +
              (entry->kind == runtime::RuntimeKind::kFile
                   ? "sha256:" + HexEncode(AsBytes(entry->sha256))
                   : std::string(runtime::RuntimeKindName(entry->kind)) + ": " + entry->detail));
    }
  }
  return trusted ? attest::cli::kExitOk : attest::cli::kExitVerificationFailed;
}

}  // namespace attest::attestd::cli
