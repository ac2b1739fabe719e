// Ledger appends on PostgreSQL (issue 14): durable, one per transaction, and
// batched (1,000 per transaction), to set beside ledger_bench's SQLite
// figures on the same machine.
//
// Needs a server: ATTEST_BENCH_PG_URL names a database (postgresql://...,
// no password: PGPASSFILE). Each benchmark makes its own schema in it
// (bench_<pid>_<n>, dropped after), so nothing already there is touched.
// The server's data directory must be on a real disk (fsync is the cost).
//
// Run: ATTEST_BENCH_PG_URL='postgresql:///bench?host=/tmp/pg/run&user=attest'
//      ledger_postgres_bench --benchmark_repetitions=3
#include <cstdlib>
#include <optional>
#include <string>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include "attest/ed25519.h"
#include "attest/ledger/ledger.h"
#include "attest/pg/pg.h"

#include "ledger_append_workload.h"

namespace attest::ledger {
namespace {

// A schema of its own for one benchmark, dropped when done.
class BenchSchema {
 public:
  explicit BenchSchema(benchmark::State& state) {
    const char* url = std::getenv("ATTEST_BENCH_PG_URL");
    if (url == nullptr || *url == '\0') {
      state.SkipWithError("set ATTEST_BENCH_PG_URL to a PostgreSQL database URL");
      return;
    }
    static int counter = 0;
    name_ = "bench_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    auto admin = pg::Connection::Open(url);
    if (admin.ok()) admin_.emplace(std::move(admin).value());
    Status made =
        admin_ ? admin_->Execute("create schema", "CREATE SCHEMA " + name_) : Status(admin.error());
    if (!made.ok()) {
      state.SkipWithError(made.error().ToString().c_str());
      return;
    }
    url_ = std::string(url) + (std::string(url).find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + name_;
  }
  ~BenchSchema() {
    if (admin_ && !url_.empty())
      (void)admin_->Execute("drop schema", "DROP SCHEMA " + name_ + " CASCADE");
  }
  bool ok() const { return !url_.empty(); }
  const std::string& url() const { return url_; }

 private:
  std::optional<pg::Connection> admin_;
  std::string name_;
  std::string url_;
};

std::optional<Ledger> NewLedger(benchmark::State& state, const BenchSchema& schema) {
  if (!schema.ok()) return std::nullopt;
  auto key = Ed25519PrivateKey::Generate();
  auto ledger = Ledger::Create(schema.url(), "bench.example/ledger", key->public_key());
  if (!ledger.ok()) {
    state.SkipWithError(ledger.error().ToString().c_str());
    return std::nullopt;
  }
  return std::move(ledger).value();
}

void BM_PostgresAppendDurable(benchmark::State& state) {
  BenchSchema schema(state);
  std::optional<Ledger> ledger = NewLedger(state, schema);
  if (!ledger) return;
  bench::AppendOneAtATime(state, *ledger);
}
BENCHMARK(BM_PostgresAppendDurable)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();

void BM_PostgresAppendBatched(benchmark::State& state) {
  BenchSchema schema(state);
  std::optional<Ledger> ledger = NewLedger(state, schema);
  if (!ledger) return;
  bench::AppendInBatches(state, *ledger);
}
BENCHMARK(BM_PostgresAppendBatched)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

}  // namespace
}  // namespace attest::ledger

BENCHMARK_MAIN();
