// Event log throughput (verifier/eventlog): parse, and parse + replay, of
// the repository's real firmware logs (testdata/eventlogs, made by
// scripts/measured-boot). Target: >= 50,000 logs/s on one core for parse +
// replay of a ~20 KiB crypto-agile log (ovmf-sb-on.bin: 47 events, four
// banks). items_per_second is logs/s.
//
// Run: event_log_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <benchmark/benchmark.h>

#include "attest/verifier/event_log.h"

namespace attest::verifier {
namespace {

const Bytes& LoadLog(const std::string& name) {
  static std::map<std::string, Bytes> cache;
  auto found = cache.find(name);
  if (found != cache.end()) return found->second;
  std::string path = std::string(ATTEST_FIXTURES_DIR) + "/eventlogs/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "benchmark setup failed: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!ParseEventLog(bytes).ok()) {
    std::fprintf(stderr, "benchmark setup failed: %s does not parse\n", path.c_str());
    std::exit(1);
  }
  return cache.emplace(name, std::move(bytes)).first->second;
}

void BM_Parse(benchmark::State& state, const char* name) {
  const Bytes& bytes = LoadLog(name);
  for (auto _ : state) {
    Result<EventLog> log = ParseEventLog(bytes);
    benchmark::DoNotOptimize(log);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

void BM_ParseReplay(benchmark::State& state, const char* name) {
  const Bytes& bytes = LoadLog(name);
  for (auto _ : state) {
    Result<EventLog> log = ParseEventLog(bytes);
    tpm::PcrValues pcrs = ReplayEventLog(*log);
    benchmark::DoNotOptimize(pcrs);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

// Secure Boot on: 47 events (shim, grub, kernel); off: 25 events. Both
// sha1+sha256+sha384+sha512.
BENCHMARK_CAPTURE(BM_Parse, ovmf_sb_on_47ev_4banks, "ovmf-sb-on.bin");
BENCHMARK_CAPTURE(BM_ParseReplay, ovmf_sb_on_47ev_4banks, "ovmf-sb-on.bin");
BENCHMARK_CAPTURE(BM_Parse, ovmf_sb_off_25ev_4banks, "ovmf-sb-off.bin");
BENCHMARK_CAPTURE(BM_ParseReplay, ovmf_sb_off_25ev_4banks, "ovmf-sb-off.bin");

}  // namespace
}  // namespace attest::verifier

BENCHMARK_MAIN();
