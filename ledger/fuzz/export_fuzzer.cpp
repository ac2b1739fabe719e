// Fuzzes offline export verification end to end: line reading, JSON,
// field decoding, hashing, the Merkle range and checkpoint notes. Any input
// must produce a report, never a crash, hang or unbounded allocation; an
// export that verifies must extend its own checkpoint and fail a minimum
// size one above its entry count.
#include <cstdint>
#include <sstream>
#include <string>

#include "attest/ledger/verify.h"

namespace {

const attest::ledger::NoteVerifier& Key() {
  // The verifier key of the seed corpus's ledger (corpus/README.md).
  static const attest::ledger::NoteVerifier key =
      attest::ledger::ParseVerifierKey(
          "fuzz.example/ledger+5e1c6ee5+AfNkVbB1BnrBuykgvcwmDNTKAI96hfW0LbFlFp9ZkDW1")
          .value();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream input(text);
  attest::ledger::VerifyReport report;
  (void)attest::ledger::VerifyExport(input, Key(), report);
  if (!report.ok() || !report.latest_checkpoint) return 0;
  // An export that verifies extends its own checkpoint, and holds no more
  // entries than it holds.
  const attest::ledger::TrustedReference own{report.latest_checkpoint, "own", report.entries};
  std::istringstream again(text);
  attest::ledger::VerifyReport extended;
  (void)attest::ledger::VerifyExport(again, Key(), extended, own);
  if (!extended.ok()) __builtin_trap();
  const attest::ledger::TrustedReference more{std::nullopt, "", report.entries + 1};
  std::istringstream once_more(text);
  attest::ledger::VerifyReport short_of_it;
  (void)attest::ledger::VerifyExport(once_more, Key(), short_of_it, more);
  if (short_of_it.ok()) __builtin_trap();
  return 0;
}
