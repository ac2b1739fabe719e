// A firmware event log replayed into a simulated TPM, as the firmware would
// have extended it: what gives swtpm the PCRs of a real boot for the tests,
// the benchmark and the quickstart.
#pragma once

#include <cstddef>

#include "attest/attestd/tpm.h"
#include "attest/bytes.h"
#include "attest/error.h"

namespace attest::test {

// Extends each event's digest of every bank the log and the TPM both have
// into its PCR, in log order (EV_NO_ACTION events are not extended), then
// checks that the TPM's PCRs equal the log's replay. A log with a
// StartupLocality event or an H-CRTM sequence, which no extend from
// locality 0 can reproduce, is refused (kUnsupported) before anything is
// extended; a log that does not parse is kCorrupt. Returns how many
// extends were made.
Result<std::size_t> ExtendBootLog(attestd::Tpm& tpm, ByteView log);

}  // namespace attest::test
