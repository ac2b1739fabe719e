// What the service load generator (service_load.cpp) measures and prints:
// per-thread latency samples merged into a phase's rate and percentiles,
// the verifier's memory, and the table at the end.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "service_load_cpu.h"

namespace attest::bench {

// One thread's attestations: latencies of the trusted ones, and the failures.
struct Samples {
  std::vector<double> latencies_ms;
  std::size_t failures = 0;
  std::string first_failure;
  void Record(bool trusted, std::chrono::steady_clock::time_point from,
              std::chrono::steady_clock::time_point to, const std::function<std::string()>& why);
};

struct PhaseResult {
  std::size_t completed = 0;  // trusted verdicts
  std::size_t failures = 0;
  std::string first_failure;
  double seconds = 0;
  double rate = 0;  // trusted verdicts per second
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

struct PhaseSamples {
  explicit PhaseSamples(std::size_t threads) : per_thread(threads) {}
  std::vector<Samples> per_thread;
  PhaseResult Summarize(std::chrono::steady_clock::duration elapsed) const;
};

// VmRSS and VmHWM of a process, in MiB (0 when unreadable).
struct Memory {
  double rss_mib = 0;
  double peak_mib = 0;
  std::string whose;  // "verifier" or "verifier + load generator (in-process)"
};
Memory ReadMemory(int pid, std::string whose);  // pid 0: this process

// A fresh directory under $TMPDIR (or /tmp), 0700.
std::string MakeTempDirectory(const std::string& prefix);

class Report {
 public:
  Report(std::size_t nodes, unsigned server_threads, std::string verifier, std::string storage);
  void Phase(const std::string& name, const PhaseResult& result);
  void Memory(const std::string& when, const bench::Memory& memory);
  // Each process's CPU over a phase of `seconds` that completed `completed`
  // attestations: cores busy, and CPU milliseconds per attestation.
  void Cpu(const std::vector<CpuShare>& shares, double seconds, std::size_t completed);
  // The service's rate against the core's single-thread rate x threads.
  void Core(const std::string& mode, double service_rate, double core_rate, unsigned threads);
  void Print() const;

 private:
  std::vector<std::string> lines_;
};

}  // namespace attest::bench
