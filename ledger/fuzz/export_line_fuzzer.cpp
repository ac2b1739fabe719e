// Differential fuzzing of export-line parsing: the streaming fast path (with
// its DOM fallback) must accept exactly what the reference DOM parser
// accepts, and produce the same entry, byte for byte.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/ledger/export.h"

namespace {

bool SameLine(const attest::ledger::ExportLine& a, const attest::ledger::ExportLine& b) {
  if (a.is_checkpoint != b.is_checkpoint) return false;
  if (a.is_checkpoint) return a.checkpoint == b.checkpoint;
  const auto& x = a.entry;
  const auto& y = b.entry;
  bool same_signature = x.content.signature.has_value() == y.content.signature.has_value() &&
                        (!x.content.signature ||
                         (x.content.signature->public_key == y.content.signature->public_key &&
                          x.content.signature->signature == y.content.signature->signature));
  return x.seq == y.seq && x.content.time == y.content.time && x.content.kind == y.content.kind &&
         x.content.actor == y.content.actor && x.content.payload == y.content.payload &&
         x.entry_hash == y.entry_hash && x.chain_hash == y.chain_hash && same_signature;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  attest::ledger::ExportLine fast;
  attest::ledger::ExportLine reference;
  bool fast_ok = attest::ledger::ParseExportLine(line, fast).ok();
  bool reference_ok = attest::ledger::ParseExportLineWithDom(line, reference).ok();
  if (fast_ok != reference_ok || (fast_ok && !SameLine(fast, reference))) {
    std::fprintf(stderr, "fast path and DOM parser disagree (%d vs %d)\n", fast_ok, reference_ok);
    std::abort();
  }
  return 0;
}
