// libFuzzer target: the event log parser and everything that consumes its
// output (replay, boot facts, both renderers) on arbitrary bytes. A parse
// error must carry "byte offset"; nothing may crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attest/verifier/event_log.h"

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
  attest::verifier::BootFacts facts = attest::verifier::ExtractBootFacts(*log);
  (void)facts;
  // dump() throws on invalid UTF-8: every decoded string must be sanitized.
  std::string json = attest::verifier::EventLogToJson(*log, pcrs).dump();
  std::string text = attest::verifier::RenderEventLogText(*log, pcrs);
  (void)json;
  (void)text;
  return 0;
}
