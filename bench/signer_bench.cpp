// Signer figures (issue 5 §5). Sign and verify of a small envelope next to
// libsodium's bare crypto_sign_detached / crypto_sign_verify_detached on a
// message of the same size (target: >= 80% of the bare rate); streaming
// hashing of a 1 GB file next to OpenSSL EVP SHA-256 over a 16 KiB buffer
// in memory, as `openssl speed -evp sha256 -bytes 16384` measures it
// (target: >= 80%); and the peak RSS after hashing (target: < 16 MiB).
//
// The file lives in $ATTEST_BENCH_DIR (default /var/tmp/attest-bench) and is
// written once. "MB/s" is decimal, like `openssl speed`.
//
// Run: signer_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/sha256.h"
#include "attest/signer/envelope.h"
#include "attest/signer/file_digest.h"
#include "attest/signer/verify.h"

namespace attest::signer {
namespace {

constexpr std::uint64_t kFileSize = std::uint64_t{1000} * 1000 * 1000;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "benchmark setup failed: %s\n", what.c_str());
  std::exit(1);
}

// Random content, written in 1 MiB pieces (the writer must not inflate the
// peak RSS the hashing figure reports), once while its size is right.
const std::string& BigFile() {
  static const std::string path = [] {
    const char* configured = std::getenv("ATTEST_BENCH_DIR");
    std::string dir = configured != nullptr ? configured : "/var/tmp/attest-bench";
    dir += "/signer";
    std::filesystem::create_directories(dir);
    std::string file = dir + "/1GB";
    struct stat info {};
    if (::stat(file.c_str(), &info) == 0 && static_cast<std::uint64_t>(info.st_size) == kFileSize) {
      return file;
    }
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) Die("create " + file);
    std::vector<std::uint64_t> words((1 << 20) / sizeof(std::uint64_t));
    std::mt19937_64 generator(42);
    for (std::uint64_t written = 0; written < kFileSize;) {
      for (std::uint64_t& word : words) word = generator();
      std::size_t chunk = std::min<std::uint64_t>(words.size() * 8, kFileSize - written);
      if (::write(fd, words.data(), chunk) != static_cast<ssize_t>(chunk)) Die("write " + file);
      written += chunk;
    }
    ::close(fd);
    return file;
  }();
  return path;
}

struct Fixture {
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate().value();
  Envelope envelope;
  FileDigest digest;
  TrustedKeys trusted;
  Bytes message;
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> sodium_public{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sodium_secret{};
  std::array<unsigned char, crypto_sign_BYTES> sodium_signature{};

  Fixture() {
    if (sodium_init() < 0) Die("sodium_init");
    digest.sha256 = Sha256Of(AsBytes(std::string("#!/bin/sh\necho hello\n")));
    digest.size = 21;
    envelope.path = "/usr/local/bin/deploy.sh";
    envelope.sha256 = digest.sha256;
    envelope.size = digest.size;
    envelope.time = "2026-11-29T20:00:00.000000Z";
    if (!SignEnvelope(envelope, key).ok()) Die("SignEnvelope");
    trusted.Add(MakePublicKeyInfo(key.public_key()));
    message = SignedMessage(envelope).value();
    crypto_sign_keypair(sodium_public.data(), sodium_secret.data());
    crypto_sign_detached(sodium_signature.data(), nullptr, message.data(), message.size(),
                         sodium_secret.data());
  }
};

Fixture& Shared() {
  static Fixture fixture;
  return fixture;
}

void SetOpsRate(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ops/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["msg_bytes"] = static_cast<double>(Shared().message.size());
}

void BM_SignEnvelope(benchmark::State& state) {
  Envelope envelope = Shared().envelope;
  for (auto _ : state) {
    if (!SignEnvelope(envelope, Shared().key).ok()) Die("SignEnvelope");
    benchmark::DoNotOptimize(envelope.signature);
  }
  SetOpsRate(state);
}
BENCHMARK(BM_SignEnvelope)->MinTime(1.0)->UseRealTime();

void BM_SodiumSignDetached(benchmark::State& state) {
  Fixture& f = Shared();
  std::array<unsigned char, crypto_sign_BYTES> signature{};
  for (auto _ : state) {
    crypto_sign_detached(signature.data(), nullptr, f.message.data(), f.message.size(),
                         f.sodium_secret.data());
    benchmark::DoNotOptimize(signature);
  }
  SetOpsRate(state);
}
BENCHMARK(BM_SodiumSignDetached)->MinTime(1.0)->UseRealTime();

void BM_VerifyEnvelope(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    VerifyResult result = VerifyEnvelope(f.envelope, f.digest, f.trusted, Purpose::kArtifact);
    if (!result.valid()) Die("VerifyEnvelope: " + result.detail);
    benchmark::DoNotOptimize(result);
  }
  SetOpsRate(state);
}
BENCHMARK(BM_VerifyEnvelope)->MinTime(1.0)->UseRealTime();

void BM_SodiumVerifyDetached(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    int rc = crypto_sign_verify_detached(f.sodium_signature.data(), f.message.data(),
                                         f.message.size(), f.sodium_public.data());
    if (rc != 0) Die("crypto_sign_verify_detached");
    benchmark::DoNotOptimize(rc);
  }
  SetOpsRate(state);
}
BENCHMARK(BM_SodiumVerifyDetached)->MinTime(1.0)->UseRealTime();

void SetThroughput(benchmark::State& state, double bytes_per_iteration) {
  double bytes = bytes_per_iteration * static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["MB/s"] = benchmark::Counter(bytes / 1e6, benchmark::Counter::kIsRate);
}

double PeakRssMiB() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
}

// What `signer sign FILE` does before signing: HashFileStreaming, page cache
// warm (the first call warms it).
void BM_HashFileStreaming1GB(benchmark::State& state) {
  const std::string& path = BigFile();
  if (!HashFileStreaming(path).ok()) Die("hash " + path);
  for (auto _ : state) {
    auto digest = HashFileStreaming(path);
    if (!digest.ok() || digest->size != kFileSize) Die("hash " + path);
    benchmark::DoNotOptimize(digest);
  }
  SetThroughput(state, static_cast<double>(kFileSize));
  state.counters["peak_rss_MiB"] = PeakRssMiB();
}
BENCHMARK(BM_HashFileStreaming1GB)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

// OpenSSL's own figure, in process: EVP SHA-256 over one 16 KiB buffer.
void BM_Sha256InMemory16KiB(benchmark::State& state) {
  std::vector<std::uint8_t> buffer(16 << 10, 0x5a);
  Sha256 hasher;
  for (auto _ : state) {
    hasher.Update(buffer);
    benchmark::DoNotOptimize(hasher.Finish());
  }
  SetThroughput(state, static_cast<double>(buffer.size()));
}
BENCHMARK(BM_Sha256InMemory16KiB)->MinTime(2.0)->UseRealTime();

}  // namespace
}  // namespace attest::signer

BENCHMARK_MAIN();
