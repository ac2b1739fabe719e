// Fuzzes the runtime log parser (the file in /run/attestd is read back at
// every start). A log that parses must serialize and parse back to itself.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/attestd/runtime_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto log = attest::ParseRuntimeLog(text, "fuzz");
  if (!log.ok()) return 0;
  auto serialized = attest::SerializeRuntimeLog(*log);
  if (!serialized.ok()) {
    std::fprintf(stderr, "parsed log does not serialize: %s\n",
                 serialized.error().ToString().c_str());
    std::abort();
  }
  auto again = attest::ParseRuntimeLog(*serialized, "fuzz");
  if (!again.ok() || !(*again == *log)) {
    std::fprintf(stderr, "serialized log does not parse back to itself\n");
    std::abort();
  }
  return 0;
}
