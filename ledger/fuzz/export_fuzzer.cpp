// Fuzzes offline export verification end to end: line reading, JSON,
// field decoding, hashing, the Merkle range and checkpoint notes. Any input
// must produce a report, never a crash, hang or unbounded allocation.
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
  std::istringstream input(std::string(reinterpret_cast<const char*>(data), size));
  attest::ledger::VerifyReport report;
  (void)attest::ledger::VerifyExport(input, Key(), report);
  return 0;
}
