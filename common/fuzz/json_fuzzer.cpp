// Fuzzes strict JSON parsing and RFC 8785 canonicalization. Beyond "no
// crash", it checks the property hashing relies on: canonical output parses
// again, and canonicalizing it again changes nothing; and that the simdjson
// fast path never accepts what the strict path rejects or reads otherwise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "attest/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The fast path may decline, but whatever it accepts the strict path
  // must accept as the same value.
  std::optional<attest::Json> fast = attest::internal::ParseJsonFastPath(text, {});
  auto parsed = attest::internal::ParseJsonStrictSlowPath(text, {});
  if (fast && (!parsed.ok() || *fast != *parsed)) {
    std::fprintf(stderr, "fast path accepted what the strict path %s\n",
                 parsed.ok() ? "reads differently" : "rejects");
    std::abort();
  }
  if (!parsed.ok()) return 0;
  auto canonical = attest::CanonicalJson(*parsed);
  if (!canonical.ok()) {
    std::fprintf(stderr, "strictly parsed JSON failed to canonicalize: %s\n",
                 canonical.error().message.c_str());
    std::abort();
  }
  auto reparsed = attest::ParseJsonStrict(*canonical);
  if (!reparsed.ok()) {
    std::fprintf(stderr, "canonical JSON does not parse: %s\n", reparsed.error().message.c_str());
    std::abort();
  }
  if (attest::CanonicalJson(*reparsed).value() != *canonical) {
    std::fprintf(stderr, "canonicalization is not idempotent\n");
    std::abort();
  }
  return 0;
}
