// attestd evidence: one evidence document over a nonce the operator gives,
// for `verifier check` (offline) or `verifier policy learn` (a first policy).
#include <string>

#include "attest/attestd/config.h"
#include "attest/attestd/node_agent.h"
#include "attest/cli.h"
#include "attest/encoding.h"
#include "attest/file.h"

#include "cli/cli.h"

namespace attest::attestd::cli {
namespace {

constexpr std::string_view kDefaultSelection = "sha256:0,1,2,3,4,5,6,7";

const attest::cli::Command kEvidence{
    "evidence",
    "attestd evidence --config FILE --nonce HEX --out FILE [--pcrs SELECTION]\n"
    "                 [--ak-out FILE]",
    "Measures the runtime files, quotes the PCRs with the nonce, and writes the\n"
    "evidence document (verifier/FORMAT.md §1) with the boot log and the whole\n"
    "runtime log. Creates the AK the first time (kept for enrollment). Refuses to\n"
    "run beside `attestd run` on the same state directory. --ak-out writes the AK's\n"
    "TPM2B_PUBLIC, which `verifier check` and `verifier policy learn` take as --ak.",
    {{"config", "FILE", "the configuration (attestd.toml)"},
     {"nonce", "HEX", "the challenge, 1 to 64 bytes as lowercase hex"},
     {"out", "FILE", "where to write the evidence JSON"},
     {"pcrs", "SELECTION",
      "what to quote (default sha256:0-7 plus the runtime PCR, e.g. sha256:0-7,15)"},
     {"ak-out", "FILE", "also write the AK's TPM2B_PUBLIC here"}},
};

}  // namespace

int RunEvidence(CommandArgs args, std::ostream& out, std::ostream& err) {
  attest::cli::Start start = attest::cli::StartCommand("attestd", kEvidence, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const attest::cli::Invocation& run = *start.run;
  for (const char* required : {"config", "nonce", "out"}) {
    if (!run.flags.Has(required)) return run.Fail(std::string("--") + required + " is required");
  }
  Result<AttestdConfig> config = LoadAttestdConfig(*run.flags.Value("config"));
  if (!config.ok()) return run.Fail(config.error());
  Result<Bytes> nonce = HexDecode(*run.flags.Value("nonce"));
  if (!nonce.ok() || nonce->empty() || nonce->size() > 64) {
    return run.Fail("--nonce: must be 1 to 64 bytes of hex");
  }
  const std::string selection_text = run.flags.Value("pcrs").value_or(
      std::string(kDefaultSelection) + "," + std::to_string(config->runtime_pcr));
  Result<tpm::PcrSelection> selection = tpm::ParsePcrSelection(selection_text);
  if (!selection.ok()) return run.Fail("--pcrs: " + selection.error().message);

  Result<FileDescriptor> lock = LockStateDirectory(config->state_dir);
  if (!lock.ok()) return run.Fail(lock.error());
  SystemClock clock;
  Result<std::unique_ptr<NodeAgent>> agent = NodeAgent::Open(*config, clock);
  if (!agent.ok()) return run.Fail(agent.error());
  Result<protocol::Evidence> evidence = (*agent)->OfflineEvidence(*nonce, *selection);
  if (!evidence.ok()) return run.Fail(evidence.error());
  Result<Json> document = protocol::EvidenceToJson(*evidence);
  if (!document.ok()) return run.Fail(document.error());
  Status written = WriteFileAtomically(*run.flags.Value("out"), document->dump(2) + "\n", 0644);
  if (!written.ok()) return run.Fail(written.error());
  if (std::optional<std::string> ak_path = run.flags.Value("ak-out")) {
    const Bytes ak = (*agent)->AkPublic();
    Status ak_written = WriteFileAtomically(
        *ak_path, std::string_view(reinterpret_cast<const char*>(ak.data()), ak.size()), 0644);
    if (!ak_written.ok()) return run.Fail(ak_written.error());
  }
  err << "attestd evidence: node " << (*agent)->identity()->node_id << ", quoted "
      << selection->ToString() << ", wrote " << *run.flags.Value("out") << "\n";
  return attest::cli::kExitOk;
}

}  // namespace attest::attestd::cli
