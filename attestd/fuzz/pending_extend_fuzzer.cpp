// Fuzzes the pending-extend marker parser (attestd reads the marker beside
// its runtime log at every start). Whatever parses must round-trip.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/attestd/runtime_pending.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pending = attest::attestd::ParsePendingExtend(text, "fuzz");
  if (!pending.ok()) return 0;
  auto again = attest::attestd::ParsePendingExtend(
      attest::attestd::SerializePendingExtend(*pending), "fuzz");
  if (!again.ok() || !(*again == *pending)) {
    (void)std::fprintf(stderr, "pending-extend marker does not round-trip\n");
    std::abort();
  }
  return 0;
}
