// Event log throughput (verifier/eventlog): parse, and parse + replay, of
// real firmware logs from ATTEST_TESTDATA_DIR. Target: >= 50,000 logs/s on
// one core for parse + replay of a ~100-event crypto-agile log
// (keylime_mb_log.bin: 102 events, sha256). items_per_second is logs/s.
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
  std::string path = std::string(ATTEST_TESTDATA_DIR) + "/eventlogs/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "benchmark setup failed: cannot read %s (ATTEST_TESTDATA_DIR)\n",
                 path.c_str());
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

// keylime: 102 events, sha256 only. tcglogparser: 115 events, sha1+sha256.
// rhel8: 83 events, sha1+sha256+sha384. hcrtm: 204 events, sha1+sha256+sm3.
BENCHMARK_CAPTURE(BM_Parse, keylime_102ev_sha256, "keylime_mb_log.bin");
BENCHMARK_CAPTURE(BM_ParseReplay, keylime_102ev_sha256, "keylime_mb_log.bin");
BENCHMARK_CAPTURE(BM_Parse, tcglogparser_115ev_2banks, "tcglogparser_binary_bios_measurements.bin");
BENCHMARK_CAPTURE(BM_ParseReplay, tcglogparser_115ev_2banks,
                  "tcglogparser_binary_bios_measurements.bin");
BENCHMARK_CAPTURE(BM_Parse, rhel8_83ev_3banks, "gotpmtools_rhel8-uefi.bin");
BENCHMARK_CAPTURE(BM_ParseReplay, rhel8_83ev_3banks, "gotpmtools_rhel8-uefi.bin");
BENCHMARK_CAPTURE(BM_ParseReplay, hcrtm_204ev_sm3, "tpm2tss_binary_measurements_hcrtm.bin");

}  // namespace
}  // namespace attest::verifier

BENCHMARK_MAIN();
