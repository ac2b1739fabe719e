// Ledger throughput and latency (issue #2 targets on a 2-core machine):
//   durable appends, one per transaction (synchronous=FULL)   >= 1,000/s
//   batched appends (group commit, 1,000 per transaction)       >= 50,000/s
//   verification of a 1,000,000-entry database and export       >= 300,000 entries/s
//   inclusion proof at 1,000,000 entries                        < 1 ms
// plus export time at 1,000,000 entries.
//
// Files go to $ATTEST_BENCH_DIR (default: ./bench-data), which must be on a
// real disk: on tmpfs fsync is free and the durable figure means nothing.
// The million-entry ledger is built once and reused across runs.
//
// Run: ledger_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <benchmark/benchmark.h>

#include "attest/ledger/export.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/verify.h"

#include "ledger_append_workload.h"

namespace attest::ledger {
namespace {

constexpr std::uint64_t kMillion = 1000000;

std::string BenchDir() {
  const char* configured = std::getenv("ATTEST_BENCH_DIR");
  std::string dir = configured != nullptr ? configured : "bench-data";
  std::filesystem::create_directories(dir);
  return dir;
}

void Die(const Error& error) {
  std::fprintf(stderr, "benchmark setup failed: %s\n", error.ToString().c_str());
  std::exit(1);
}

struct Fixture {
  std::string db;
  NoteSigner signer;
  NoteVerifier verifier;
};

Fixture NewLedger(const std::string& name) {
  std::string db = BenchDir() + "/" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  auto key = Ed25519PrivateKey::Generate();
  if (!key.ok()) Die(key.error());
  const std::string origin = "bench.example/ledger";
  NoteSigner signer{origin, NoteKeyId(origin, key->public_key()), std::move(key).value()};
  auto ledger = Ledger::Create(db, origin, signer.key.public_key());
  if (!ledger.ok()) Die(ledger.error());
  NoteVerifier verifier = MakeNoteVerifier(origin, signer.key.public_key()).value();
  return Fixture{db, std::move(signer), verifier};
}

// The million-entry ledger, its checkpoint and its export: built on first
// use, and reused by later runs while the ".ready" marker is there.
Fixture BuildMillionLedger() {
  Fixture built = NewLedger("ledger-1m.db");
  auto ledger = Ledger::Open(built.db);
  if (!ledger.ok()) Die(ledger.error());
  std::vector<NewEntry> batch;
  for (std::uint64_t n = 0; n < kMillion; n += batch.size()) {
    batch.clear();
    for (std::uint64_t i = 0; i < 10000; ++i) batch.push_back(bench::SampleEntry(n + i));
    if (auto appended = ledger->AppendBatch(batch); !appended.ok()) Die(appended.error());
  }
  auto checkpoint = ledger->SignCheckpoint(built.signer);
  if (!checkpoint.ok()) Die(checkpoint.error());
  std::ofstream out(BenchDir() + "/ledger-1m.jsonl", std::ios::binary | std::ios::trunc);
  if (Status written = WriteExport(*ledger, *checkpoint, ExportFormat::kJsonLines, out);
      !written.ok()) {
    Die(written.error());
  }
  std::ofstream(BenchDir() + "/ledger-1m.ready") << "built\n";
  return built;
}

struct MillionFixture {
  std::string db;
  std::string export_path;
  NoteVerifier verifier;
};

const MillionFixture& MillionLedger() {
  static const MillionFixture fixture = [] {
    const std::string db = BenchDir() + "/ledger-1m.db";
    if (!std::filesystem::exists(BenchDir() + "/ledger-1m.ready")) BuildMillionLedger();
    auto ledger = Ledger::Open(db, {nullptr, 30000, true});
    if (!ledger.ok()) Die(ledger.error());
    return MillionFixture{db, BenchDir() + "/ledger-1m.jsonl", ledger->checkpoint_key()};
  }();
  return fixture;
}

void BM_AppendDurable(benchmark::State& state) {
  Fixture fixture = NewLedger("append-durable.db");
  auto ledger = Ledger::Open(fixture.db);
  if (!ledger.ok()) Die(ledger.error());
  bench::AppendOneAtATime(state, *ledger);
}
BENCHMARK(BM_AppendDurable)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();

void BM_AppendBatched(benchmark::State& state) {
  Fixture fixture = NewLedger("append-batched.db");
  auto ledger = Ledger::Open(fixture.db);
  if (!ledger.ok()) Die(ledger.error());
  bench::AppendInBatches(state, *ledger);
}
BENCHMARK(BM_AppendBatched)->Arg(1000)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

void BM_VerifyDatabase(benchmark::State& state) {
  const MillionFixture& fixture = MillionLedger();
  for (auto _ : state) {
    auto ledger = Ledger::Open(fixture.db, {nullptr, 30000, true});
    VerifyReport report;
    Status status = VerifyDatabase(*ledger, fixture.verifier, report);
    if (!status.ok() || !report.ok() || report.entries != kMillion) {
      state.SkipWithError("verification failed");
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kMillion));
}
BENCHMARK(BM_VerifyDatabase)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_VerifyExport(benchmark::State& state) {
  const MillionFixture& fixture = MillionLedger();
  const std::string& path = fixture.export_path;
  for (auto _ : state) {
    std::ifstream input(path, std::ios::binary);
    VerifyReport report;
    Status status = VerifyExport(input, fixture.verifier, report);
    if (!status.ok() || !report.ok() || report.entries != kMillion) {
      state.SkipWithError("verification failed");
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kMillion));
}
BENCHMARK(BM_VerifyExport)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_Export(benchmark::State& state) {
  const MillionFixture& fixture = MillionLedger();
  auto ledger = Ledger::Open(fixture.db, {nullptr, 30000, true});
  auto checkpoint = ledger->LatestCheckpoint();
  const std::string path = BenchDir() + "/export-out.jsonl";
  for (auto _ : state) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!WriteExport(*ledger, **checkpoint, ExportFormat::kJsonLines, out).ok()) {
      state.SkipWithError("export failed");
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kMillion));
}
BENCHMARK(BM_Export)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_InclusionProof(benchmark::State& state) {
  const MillionFixture& fixture = MillionLedger();
  auto ledger = Ledger::Open(fixture.db, {nullptr, 30000, true});
  std::mt19937_64 random(42);
  for (auto _ : state) {
    std::uint64_t seq = 1 + random() % kMillion;
    auto proof = ledger->ProveInclusion(seq, kMillion);
    if (!proof.ok()) state.SkipWithError(proof.error().message.c_str());
    benchmark::DoNotOptimize(proof);
  }
}
BENCHMARK(BM_InclusionProof)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace attest::ledger

BENCHMARK_MAIN();
