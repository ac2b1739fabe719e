// libFuzzer target: the event log parser and everything that consumes its
// output (replay, verification, boot facts, summary, both renderers) on
// arbitrary bytes. A parse error must carry "byte offset"; nothing may
// crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attest/verifier/boot_facts.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/verified_event_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  attest::ByteView input(data, size);
  attest::Result<attest::verifier::EventLog> log = attest::verifier::ParseEventLog(input);
  if (!log.ok()) {
    if (log.error().code != attest::ErrorCode::kCorrupt ||
        log.error().message.rfind("byte offset ", 0) != 0) {
      std::abort();
    }
    return 0;
  }
  attest::tpm::PcrValues pcrs = attest::verifier::ReplayEventLog(*log);
  // Quoting exactly what the log replays to verifies every PCR it extends,
  // so the fact extraction sees every event.
  attest::verifier::VerifiedEventLog verified =
      attest::verifier::VerifyEventLog(*log, pcrs, pcrs, {});
  if (!verified.mismatches().empty()) std::abort();
  attest::verifier::BootFacts facts = attest::verifier::ExtractBootFacts(verified);
  attest::verifier::BootLogSummary summary = attest::verifier::SummarizeBootLog(*log);
  (void)facts;
  (void)summary;
  // dump() throws on invalid UTF-8: every decoded string must be sanitized.
  std::string json = attest::verifier::EventLogToJson(*log, pcrs).dump();
  std::string text = attest::verifier::RenderEventLogText(*log, pcrs);
  (void)json;
  (void)text;
  return 0;
}
