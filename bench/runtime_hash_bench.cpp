// Runtime measurement hashing throughput (attestd, DESIGN §4): 20 files of
// 10 MB each (200 MB) in $ATTEST_BENCH_DIR (default /var/tmp/attest-bench),
// page cache warm, hashed by RuntimeFileHasher. Target: at least 80% of
// `openssl speed -evp sha256 -bytes 16384`, i.e. the cost of read() and the
// stability checks must stay small next to SHA-256 itself.
//
// BM_HashFiles/<chunk> sweeps the read size (the default is the fastest);
// BM_Sha256InMemory is the same OpenSSL EVP SHA-256 without any file
// access, as `openssl speed` measures it. "MB/s" is decimal (10^6 bytes
// per second), the unit `openssl speed` prints (in kB/s).
//
// Run: runtime_hash_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/attestd/runtime_hash.h"
#include "attest/sha256.h"

namespace attest::attestd {
namespace {

constexpr int kFiles = 20;
constexpr std::size_t kFileSize = std::size_t{10} * 1000 * 1000;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "benchmark setup failed: %s\n", what.c_str());
  std::exit(1);
}

std::string BenchDir() {
  const char* configured = std::getenv("ATTEST_BENCH_DIR");
  std::string dir = configured != nullptr ? configured : "/var/tmp/attest-bench";
  dir += "/runtime-hash";
  std::filesystem::create_directories(dir);
  return dir;
}

// Random content (a hash does not care, but a compressing filesystem would),
// written once and reused while its size is right.
void WriteFileOnce(const std::string& path, std::uint64_t seed) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && static_cast<std::size_t>(info.st_size) == kFileSize) {
    return;
  }
  std::vector<std::uint64_t> words(kFileSize / sizeof(std::uint64_t));
  std::mt19937_64 generator(seed);
  for (std::uint64_t& word : words) word = generator();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("create " + path);
  const auto* bytes = reinterpret_cast<const char*>(words.data());
  std::size_t written = 0;
  while (written < kFileSize) {
    ssize_t n = ::write(fd, bytes + written, kFileSize - written);
    if (n <= 0) Die("write " + path);
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

const std::vector<std::string>& Files() {
  static const std::vector<std::string> files = [] {
    std::string dir = BenchDir();
    std::vector<std::string> paths;
    for (int i = 0; i < kFiles; ++i) {
      paths.push_back(dir + "/file" + std::to_string(i));
      WriteFileOnce(paths.back(), static_cast<std::uint64_t>(i));
    }
    return paths;
  }();
  return files;
}

void SetThroughput(benchmark::State& state, double bytes_per_iteration) {
  double bytes = bytes_per_iteration * static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["MB/s"] = benchmark::Counter(bytes / 1e6, benchmark::Counter::kIsRate);
}

void BM_HashFiles(benchmark::State& state) {
  HashOptions options;
  options.chunk_size = static_cast<std::size_t>(state.range(0));
  RuntimeFileHasher hasher(options);
  for (const std::string& path : Files()) {  // warm the page cache
    if (hasher.Hash(path).kind != runtime::RuntimeKind::kFile) Die("hash " + path);
  }
  for (auto _ : state) {
    for (const std::string& path : Files()) {
      FileMeasurement measurement = hasher.Hash(path);
      benchmark::DoNotOptimize(measurement);
    }
  }
  SetThroughput(state, static_cast<double>(kFiles) * kFileSize);
}
BENCHMARK(BM_HashFiles)
    ->Arg(64 << 10)
    ->Arg(128 << 10)
    ->Arg(256 << 10)
    ->Arg(512 << 10)
    ->Arg(1 << 20)
    ->Arg(4 << 20)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

// The other half of the cost: read() alone, copying the page cache into the
// same buffer without hashing. Hashing files runs at about
// 1 / (1 / read + 1 / sha256) of the two figures, since one thread does both.
void BM_ReadFiles(benchmark::State& state) {
  const auto chunk = static_cast<std::size_t>(state.range(0));
  std::vector<char> buffer(chunk);
  for (auto _ : state) {
    for (const std::string& path : Files()) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) Die("open " + path);
      while (::read(fd, buffer.data(), buffer.size()) > 0) {
      }
      ::close(fd);
    }
  }
  SetThroughput(state, static_cast<double>(kFiles) * kFileSize);
}
BENCHMARK(BM_ReadFiles)
    ->Arg(std::int64_t{kDefaultHashChunkSize})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

// OpenSSL's own figure, in process: EVP SHA-256 over one 16 KiB buffer.
void BM_Sha256InMemory(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> buffer(size, 0x5a);
  Sha256 hasher;
  for (auto _ : state) {
    hasher.Update(buffer);
    benchmark::DoNotOptimize(hasher.Finish());
  }
  SetThroughput(state, static_cast<double>(size));
}
BENCHMARK(BM_Sha256InMemory)->Arg(16 << 10)->MinTime(2.0)->UseRealTime();

}  // namespace
}  // namespace attest::attestd

BENCHMARK_MAIN();
