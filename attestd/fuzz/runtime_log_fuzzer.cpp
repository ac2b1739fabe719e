// Fuzzes the runtime log parser (the file in /run/attestd is read back at
// every start, and the verifier parses the same format from evidence) and
// the pending-extend marker beside it. Whatever parses must serialize and
// parse back to itself.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/attestd/runtime_log.h"
#include "attest/attestd/runtime_pending.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  (void)std::fprintf(stderr, "%s\n", what);
  std::abort();
}

void CheckLog(std::string_view text) {
  auto log = attest::ParseRuntimeLog(text, "fuzz");
  if (!log.ok()) return;
  auto serialized = attest::SerializeRuntimeLog(*log);
  if (!serialized.ok()) {
    (void)std::fprintf(stderr, "%s\n", serialized.error().ToString().c_str());
    Fail("parsed log does not serialize");
  }
  auto again = attest::ParseRuntimeLog(*serialized, "fuzz");
  if (!again.ok() || !(*again == *log)) Fail("serialized log does not parse back to itself");
}

void CheckPending(std::string_view text) {
  auto pending = attest::ParsePendingExtend(text, "fuzz");
  if (!pending.ok()) return;
  auto again = attest::ParsePendingExtend(attest::SerializePendingExtend(*pending), "fuzz");
  if (!again.ok() || !(*again == *pending)) Fail("pending-extend marker does not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckLog(text);
  CheckPending(text);
  return 0;
}
