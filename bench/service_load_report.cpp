#include "service_load_report.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace attest::bench {
namespace {

__attribute__((format(printf, 1, 2))) std::string Format(const char* format, ...) {
  char buffer[512];
  va_list arguments;
  va_start(arguments, format);
  std::vsnprintf(buffer, sizeof(buffer), format, arguments);
  va_end(arguments);
  return buffer;
}

double Percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

void Samples::Record(bool trusted, std::chrono::steady_clock::time_point from,
                     std::chrono::steady_clock::time_point to,
                     const std::function<std::string()>& why) {
  if (!trusted) {
    if (failures++ == 0) first_failure = why();
    return;
  }
  latencies_ms.push_back(std::chrono::duration<double, std::milli>(to - from).count());
}

PhaseResult PhaseSamples::Summarize(std::chrono::steady_clock::duration elapsed) const {
  PhaseResult result;
  std::vector<double> all;
  for (const Samples& samples : per_thread) {
    all.insert(all.end(), samples.latencies_ms.begin(), samples.latencies_ms.end());
    result.failures += samples.failures;
    if (result.first_failure.empty()) result.first_failure = samples.first_failure;
  }
  std::sort(all.begin(), all.end());
  result.completed = all.size();
  result.seconds = std::chrono::duration<double>(elapsed).count();
  result.rate = static_cast<double>(result.completed) / result.seconds;
  result.p50_ms = Percentile(all, 0.50);
  result.p99_ms = Percentile(all, 0.99);
  result.max_ms = all.empty() ? 0 : all.back();
  return result;
}

Memory ReadMemory(int pid, std::string whose) {
  Memory memory;
  memory.whose = std::move(whose);
  std::ifstream status(pid == 0 ? "/proc/self/status" : "/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    auto kib = [&line] { return std::strtod(line.c_str() + line.find(':') + 1, nullptr) / 1024; };
    if (line.rfind("VmRSS:", 0) == 0) memory.rss_mib = kib();
    if (line.rfind("VmHWM:", 0) == 0) memory.peak_mib = kib();
  }
  return memory;
}

std::string MakeTempDirectory(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
  return pattern;
}

Report::Report(std::size_t nodes, unsigned server_threads, std::string verifier,
               std::string storage) {
  double load[3] = {0, 0, 0};
  std::ifstream("/proc/loadavg") >> load[0] >> load[1] >> load[2];
  lines_.push_back(
      Format("verifier: %s, %u server threads; %zu enrolled nodes; %u cores; "
             "load average at start %.2f %.2f %.2f",
             verifier.c_str(), server_threads, nodes,
             static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)), load[0], load[1], load[2]));
  lines_.push_back("storage: " + storage);
  lines_.push_back(Format("%-40s %9s %8s %8s %8s %8s %8s", "phase", "attest/s", "p50 ms", "p99 ms",
                          "max ms", "done", "failed"));
}

void Report::Phase(const std::string& name, const PhaseResult& result) {
  lines_.push_back(Format("%-40s %9.0f %8.2f %8.2f %8.2f %8zu %8zu", name.c_str(), result.rate,
                          result.p50_ms, result.p99_ms, result.max_ms, result.completed,
                          result.failures));
  if (result.failures > 0) lines_.push_back("  first failure: " + result.first_failure);
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  lines_.push_back(Format("  (%.1f s; load average %.2f)", result.seconds, load));
}

void Report::Memory(const std::string& when, const bench::Memory& memory) {
  lines_.push_back(Format("memory %s: VmRSS %.1f MiB, VmHWM %.1f MiB (%s)", when.c_str(),
                          memory.rss_mib, memory.peak_mib, memory.whose.c_str()));
}

void Report::Cpu(const std::vector<CpuShare>& shares, double seconds, std::size_t completed) {
  std::string line = "  cpu, cores busy (ms per attestation):";
  double total = 0;
  const double per = completed > 0 ? 1000.0 / static_cast<double>(completed) : 0;
  for (const CpuShare& share : shares) {
    line += Format(" %s %.2f (%.2f);", share.name.c_str(), share.seconds / seconds,
                   share.seconds * per);
    total += share.seconds;
  }
  line += Format(" total %.2f (%.2f)", total / seconds, total * per);
  lines_.push_back(line);
}

void Report::Core(const std::string& mode, double service_rate, double core_rate,
                  unsigned threads) {
  lines_.push_back(Format(
      "core alone, %s: %.0f/s on one thread; x %u threads = %.0f/s; "
      "service/core = %.2f",
      mode.c_str(), core_rate, threads, core_rate * threads, service_rate / (core_rate * threads)));
}

void Report::Print() const {
  for (const std::string& line : lines_) std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace attest::bench
