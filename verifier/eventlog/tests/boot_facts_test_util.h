// Helpers for the boot-fact tests: a log checked against a quote, the
// values a TPM would hold after a synthetic boot, and a real log checked
// against its sidecar's PCRs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "attest/bytes.h"
#include "attest/tpm/pcr.h"
#include "attest/verifier/boot_facts.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/verified_event_log.h"

#include "synthetic_boot.h"

namespace attest::verifier::test {

// A log, and its facts verified against a quote. Keeps the bytes and the
// parsed log alive for the verified view that borrows them.
struct Checked {
  Bytes bytes;
  EventLog log;
  tpm::PcrValues replayed;
  std::optional<VerifiedEventLog> verified;
  BootFacts facts;
};

std::unique_ptr<Checked> Check(Bytes bytes, const tpm::PcrValues& quoted);
// The index in EventLog::events of a synthetic extend: the Spec ID event
// is record 0 there.
std::size_t LoggedIndex(const SyntheticLog& log, std::uint32_t pcr, std::size_t position);
// What a TPM that ran this boot holds: the replay of the log as measured.
tpm::PcrValues TpmValues(const SyntheticLog& measured);
// The log at `path`, checked against its sidecar's expected PCRs as a quote
// of every PCR the sidecar lists.
std::unique_ptr<Checked> CheckLogAt(const std::string& path);
// The same for the shared set's log `name` and the repository's fixture `name`.
std::unique_ptr<Checked> CheckRealLog(const std::string& name);
std::unique_ptr<Checked> CheckFixtureLog(const std::string& name);

}  // namespace attest::verifier::test
