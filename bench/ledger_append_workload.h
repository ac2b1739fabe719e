// The append workload both ledger benchmarks run, so the SQLite and the
// PostgreSQL figures measure the same entries the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "attest/ledger/ledger.h"

namespace attest::ledger::bench {

// A realistic entry: an attestation failure with a reason list, ~300 bytes.
inline NewEntry SampleEntry(std::uint64_t n) {
  return NewEntry{
      "attestation.failed", "verifier",
      "{\"node_id\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
      "\"n\":" +
          std::to_string(n) +
          ",\"reasons\":[{\"code\":\"PCR_DIGEST_MISMATCH\",\"detail\":\"PCR 4 replays "
          "to ab12.. but the quote says cd34..\"}]}",
      std::nullopt};
}

// One durable append per iteration.
inline void AppendOneAtATime(benchmark::State& state, Ledger& ledger) {
  std::uint64_t n = 0;
  for (auto _ : state) {
    auto appended = ledger.Append(SampleEntry(n++));
    if (!appended.ok()) state.SkipWithError(appended.error().message.c_str());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}

// One batch of state.range(0) entries per iteration (one transaction).
inline void AppendInBatches(benchmark::State& state, Ledger& ledger) {
  const auto batch_size = static_cast<std::uint64_t>(state.range(0));
  std::uint64_t n = 0;
  std::vector<NewEntry> batch;
  for (auto _ : state) {
    state.PauseTiming();
    batch.clear();
    for (std::uint64_t i = 0; i < batch_size; ++i) batch.push_back(SampleEntry(n++));
    state.ResumeTiming();
    auto appended = ledger.AppendBatch(batch);
    if (!appended.ok()) state.SkipWithError(appended.error().message.c_str());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}

}  // namespace attest::ledger::bench
