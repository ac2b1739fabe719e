// Fuzzes the verifier's TOML configuration parser (ParseServiceConfig).
// Beyond "no crash and no exception": what it accepts is within the ranges
// verifier/README.md documents, and its errors name the file.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/service/config.h"

namespace {

void Fail(const char* what) {
  std::fprintf(stderr, "config fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = attest::service::ParseServiceConfig(text, "fuzz.toml");
  if (!config.ok()) {
    if (!config.error().message.starts_with("fuzz.toml")) Fail("an error does not name the file");
    return 0;
  }
  if (config->state_dir.empty() || config->state_dir.front() != '/') Fail("state_dir");
  if (config->threads && (*config->threads < 1 || *config->threads > 64)) Fail("limits.threads");
  if (config->max_connections < 1 || config->max_connections > 100000) {
    Fail("limits.max_connections");
  }
  if (config->max_connections_per_address < 1 || config->max_connections_per_address > 100000) {
    Fail("limits.max_connections_per_address");
  }
  if (config->max_body_bytes < 1024 || config->max_body_bytes > (std::size_t{1} << 30)) {
    Fail("limits.max_body_bytes");
  }
  if (!(config->rate_limit.per_second >= 0.001 && config->rate_limit.per_second <= 1e6) ||
      !(config->rate_limit.burst >= 1 && config->rate_limit.burst <= 1e6)) {
    Fail("limits.rate_*");
  }
  for (const auto& webhook : config->webhooks) {
    if (!webhook.url.starts_with("https://") && !webhook.url.starts_with("http://")) {
      Fail("webhooks[].url");
    }
  }
  return 0;
}
