// attest-swtpm-boot: extends a firmware event log into a simulated TPM's
// PCRs (boot_log_replay.h), then checks the TPM agrees with the log.
#include <iostream>
#include <string>
#include <vector>

#include "attest/cli.h"
#include "attest/file.h"
#include "attest/tpm/algorithms.h"

#include "boot_log_replay.h"

namespace attest::swtpm_boot {
namespace {

// binary_bios_measurements are tens of KiB; the largest real ones under 1 MiB.
constexpr std::size_t kMaxLogBytes = 16 << 20;

const cli::Command kCommand{
    "",
    "attest-swtpm-boot --tcti TCTI --boot-log FILE",
    "Extends every event of a TCG firmware event log (binary_bios_measurements) but\n"
    "EV_NO_ACTION into a simulated TPM's PCRs, in log order, in every bank both the\n"
    "log and the TPM have, then reads the PCRs back and checks they equal the log's\n"
    "replay. The PCRs the log touches must be at their reset values (a freshly\n"
    "started simulator). For simulators only: the quickstart and the end-to-end\n"
    "tests give attestd a boot log that matches its TPM this way.\n"
    "Refuses a log that starts PCR 0 elsewhere than at zeros (StartupLocality or\n"
    "H-CRTM), which no software extend can reproduce.\n"
    "Exit: 0 the TPM holds the log's values; 1 a TPM error, PCRs not at their reset\n"
    "values (nothing extended), or values that differ after the replay; 2 usage, or\n"
    "a log that cannot be read, parsed or replayed (nothing extended).",
    {{"tcti", "TCTI", "the simulator, e.g. swtpm:path=/tmp/x/swtpm.sock"},
     {"boot-log", "FILE", "the firmware event log"}},
};

std::string Join(const std::vector<std::uint32_t>& pcrs) {
  std::string text;
  for (std::uint32_t pcr : pcrs) text += (text.empty() ? "" : ",") + std::to_string(pcr);
  return text;
}

std::string Join(const std::vector<std::uint16_t>& banks) {
  std::string text;
  for (std::uint16_t bank : banks) text += (text.empty() ? "" : ", ") + tpm::AlgorithmName(bank);
  return text;
}

int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  cli::Start start = cli::StartCommand("attest-swtpm-boot", kCommand, args, out, err, 0);
  if (!start.run) return start.exit_code;
  const cli::Invocation& run = *start.run;
  // "attest-swtpm-boot: message" (the tool has no subcommand to name).
  auto fail = [&](const std::string& message, int code) {
    err << "attest-swtpm-boot: " << message << "\n";
    return code;
  };
  auto input_error = [&](const Error& error) {
    return fail(error.message, cli::kExitUsageOrInput);
  };
  auto tpm_failure = [&](const Error& error) {
    return fail(error.message, cli::kExitVerificationFailed);
  };
  for (const char* required : {"tcti", "boot-log"}) {
    if (run.flags.Value(required).value_or("").empty()) {
      return fail(std::string("--") + required + " is required (see --help)",
                  cli::kExitUsageOrInput);
    }
  }
  const std::string path = *run.flags.Value("boot-log");
  Result<std::string> bytes = ReadFile(path, kMaxLogBytes);
  if (!bytes.ok()) return input_error(bytes.error());
  Result<verifier::EventLog> log = verifier::ParseEventLog(AsBytes(*bytes));
  if (!log.ok()) return input_error(log.error().WithContext(path));

  Result<std::unique_ptr<attestd::Tpm>> tpm = attestd::Tpm::Open(*run.flags.Value("tcti"));
  if (!tpm.ok()) return tpm_failure(tpm.error());
  Result<std::vector<std::uint16_t>> tpm_banks = (*tpm)->ActivePcrBanks();
  if (!tpm_banks.ok()) return tpm_failure(tpm_banks.error());
  Result<ReplayPlan> plan = PlanReplay(*log, *tpm_banks);
  if (!plan.ok()) return input_error(plan.error().WithContext(path));

  Result<tpm::PcrValues> before = (*tpm)->ReadPcrs(plan->selection);
  if (!before.ok()) return tpm_failure(before.error());
  if (Status fresh = CheckAtResetValues(*plan, *before); !fresh.ok()) {
    return tpm_failure(fresh.error());
  }
  if (Status extended = ExtendEvents(**tpm, *log, *plan); !extended.ok()) {
    return tpm_failure(extended.error());
  }
  Result<tpm::PcrValues> after = (*tpm)->ReadPcrs(plan->selection);
  if (!after.ok()) return tpm_failure(after.error());
  std::vector<std::string> differences = CompareWithReplay(*log, *plan, *after);
  if (!differences.empty()) {
    for (const std::string& line : differences) err << "attest-swtpm-boot: " << line << "\n";
    return fail(std::to_string(differences.size()) +
                    " PCR value(s) differ from the log's replay (did something else extend them?)",
                cli::kExitVerificationFailed);
  }
  if (!plan->skipped_banks.empty()) {
    err << "attest-swtpm-boot: the TPM's " << Join(plan->skipped_banks)
        << " bank(s) are not in the log: left at their reset values\n";
  }
  out << "extended " << plan->extending_events << " events into PCRs " << Join(plan->pcrs) << " ("
      << Join(plan->banks) << "); the TPM's PCRs equal the log's replay\n";
  return cli::kExitOk;
}

}  // namespace
}  // namespace attest::swtpm_boot

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  int code = attest::swtpm_boot::Run(args, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
