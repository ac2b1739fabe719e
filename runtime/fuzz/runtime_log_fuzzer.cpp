// Fuzzes the runtime log parser (attestd reads its file in /run back at every
// start, and the verifier parses the same format from evidence). Whatever
// parses must serialize and parse back to itself.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/runtime/log.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  (void)std::fprintf(stderr, "%s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto log = attest::runtime::ParseRuntimeLog(text, "fuzz");
  if (!log.ok()) return 0;
  auto serialized = attest::runtime::SerializeRuntimeLog(*log);
  if (!serialized.ok()) {
    (void)std::fprintf(stderr, "%s\n", serialized.error().ToString().c_str());
    Fail("parsed log does not serialize");
  }
  auto again = attest::runtime::ParseRuntimeLog(*serialized, "fuzz");
  if (!again.ok() || !(*again == *log)) Fail("serialized log does not parse back to itself");
  return 0;
}
