// Replays a firmware event log into a simulated TPM's PCRs, as the firmware
// would have extended them, so the simulator holds PCR values that match a
// real boot log (the quickstart and the end-to-end tests give attestd that
// log). Only for simulators: a real TPM's PCRs hold its own boot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attest/attestd/tpm.h"
#include "attest/error.h"
#include "attest/tpm/pcr.h"
#include "attest/verifier/event_log.h"

namespace attest::swtpm_boot {

// What a replay extends: the banks both the log and the TPM have, and the
// PCRs the log's extending events (every event but EV_NO_ACTION) touch.
struct ReplayPlan {
  std::vector<std::uint16_t> banks;          // in the log's header order
  std::vector<std::uint16_t> skipped_banks;  // the TPM's banks the log lacks: left alone
  std::vector<std::uint32_t> pcrs;           // ascending
  std::size_t extending_events = 0;
  tpm::PcrSelection selection;  // banks x pcrs
};

// Checks that `log` can be replayed into a TPM with `tpm_banks` active,
// touching nothing: kUnsupported for a log that starts PCR 0 elsewhere than
// at zeros (a StartupLocality or H-CRTM event: software cannot do that),
// for an event in a PCR locality 0 cannot extend (17-22), and when the log
// and the TPM share no bank this build can hash; kCorrupt for an extending
// event without a digest in a shared bank.
Result<ReplayPlan> PlanReplay(const verifier::EventLog& log,
                              const std::vector<std::uint16_t>& tpm_banks);

// kVerificationFailed naming the first PCR of the plan that is not at its
// reset value: the TPM was extended since TPM2_Startup, and a replay on top
// of that could not match the log.
Status CheckAtResetValues(const ReplayPlan& plan, const tpm::PcrValues& values);

// Extends every extending event's digests in the plan's banks into its PCR,
// in log order, through one salted session. On failure the error says how
// many events were extended before it.
Status ExtendEvents(attestd::Tpm& tpm, const verifier::EventLog& log, const ReplayPlan& plan);

// One line per (bank, PCR) whose value read back differs from the log's
// replay ("sha256 PCR 4: the TPM holds ..., the log replays to ..."); empty
// when they all agree.
std::vector<std::string> CompareWithReplay(const verifier::EventLog& log, const ReplayPlan& plan,
                                           const tpm::PcrValues& read_back);

// The whole replay, for code that only needs the PCRs set (the benchmark,
// the end-to-end tests): parse, plan, check the PCRs are fresh, extend,
// compare. Any failure is the error of its step; the tool runs the same
// steps one by one to give each its own exit code.
Status ReplayBootLog(attestd::Tpm& tpm, ByteView log);

}  // namespace attest::swtpm_boot
