// Load generator for the verifier service (issue 12 §6): N simulated nodes
// (verifier/service/testing/simulated_node.h) speak the real protocol over
// HTTPS keep-alive connections: challenge, then evidence signed by the
// node's AK. It makes a fresh `verifier init` state directory, serves it
// in-process (Service + http::Server) or as a `verifier serve` subprocess
// (--verifier PATH, so the RSS it reads is the verifier's alone), enrolls
// the nodes, and prints:
//   closed loop: C clients, one connection each, back to back for D seconds
//     -> saturation rate and latency of a whole attestation;
//   open loop: arrivals on a fixed schedule at R/s over P connections,
//     latency from each arrival's scheduled time (queueing counts: no
//     coordinated omission);
// each in steady state (the verifier holds the boot log and the runtime
// cursor; evidence without the boot log, the runtime log sent from the
// cursor) and first contact (both logs whole every time), the verifier's RSS, and
// the service's rate against the verification core alone.
// --storage puts the store and the ledger in PostgreSQL (a private cluster
// started here, or a URL), and --verifiers N runs N `verifier serve`
// processes on it with the clients split round-robin across them (issue 14
// §4); each phase prints the CPU of every verifier, of the PostgreSQL server
// processes summed, and of the load generator.
// A load generator, not a Google Benchmark: README.md, "Benchmarks".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "attest/http/server.h"
#include "attest/service/operations.h"
#include "attest/service/service.h"
#include "attest/verifier/verify.h"

#include "evidence_factory.h"
#include "service_load_cpu.h"
#include "service_load_report.h"
#include "service_load_storage.h"
#include "service_load_verifier.h"
#include "simulated_node.h"

namespace attest::bench {
namespace {

using service::test::AttestOptions;
using service::test::NodeMeasurements;
using service::test::SimulatedNode;
using Clock = std::chrono::steady_clock;

constexpr const char* kSelection = "sha256:0-8,15";

struct Flags {
  std::size_t nodes = 100;
  std::optional<unsigned> server_threads;  // unset: the verifier's default (ServingThreads)
  unsigned clients = 8;
  double seconds = 10;
  // Unmeasured load before the first phase: a verifier that has run a while
  // (PostgreSQL: solo mode begins kPostgresSoloAfter after the store opens).
  double warmup = 12;
  double rate = 1500;
  unsigned connections = 32;
  bool rsa_ek = false;
  std::string verifier;            // `verifier` binary: serve as a subprocess
  std::string storage = "sqlite";  // sqlite, postgres (a private cluster) or a URL
  unsigned verifiers = 1;          // `verifier serve` processes sharing the storage
  std::string phases = "steady,first,open-steady,open-first,core";
};

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr,
               "service_load: %s\n"
               "usage: service_load [--nodes N] [--threads T] [--clients C] [--seconds D]\n"
               "                    [--warmup W]\n"
               "                    [--rate R] [--connections P] [--ek rsa|ecc]\n"
               "                    [--verifier PATH] [--phases LIST]\n"
               "                    [--storage sqlite|postgres|postgresql://...] [--verifiers N]\n",
               message);
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (i + 1 >= argc) Usage(("missing value for " + name).c_str());
    std::string value = argv[++i];
    if (name == "--nodes")
      flags.nodes = std::stoul(value);
    else if (name == "--threads")
      flags.server_threads = static_cast<unsigned>(std::stoul(value));
    else if (name == "--clients")
      flags.clients = static_cast<unsigned>(std::stoul(value));
    else if (name == "--seconds")
      flags.seconds = std::stod(value);
    else if (name == "--warmup")
      flags.warmup = std::stod(value);
    else if (name == "--rate")
      flags.rate = std::stod(value);
    else if (name == "--connections")
      flags.connections = static_cast<unsigned>(std::stoul(value));
    else if (name == "--ek")
      flags.rsa_ek = value == "rsa";
    else if (name == "--verifier")
      flags.verifier = value;
    else if (name == "--phases")
      flags.phases = value;
    else if (name == "--storage")
      flags.storage = value;
    else if (name == "--verifiers")
      flags.verifiers = static_cast<unsigned>(std::stoul(value));
    else
      Usage(("unknown flag " + name).c_str());
  }
  if (flags.nodes == 0 || flags.clients == 0 || flags.connections == 0 || flags.verifiers == 0)
    Usage("zero count");
  if (flags.verifiers > 1 && (flags.verifier.empty() || flags.storage == "sqlite"))
    Usage("--verifiers N > 1 needs --verifier PATH and a PostgreSQL --storage");
  // A node is driven by one thread at a time (its TPM clock only moves forward).
  flags.clients = static_cast<unsigned>(std::min<std::size_t>(flags.clients, flags.nodes));
  flags.connections = static_cast<unsigned>(std::min<std::size_t>(flags.connections, flags.nodes));
  return flags;
}

template <typename T>
T Must(Result<T> result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "service_load: %s: %s\n", what, result.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(result).value();
}

// `count` threads run `body(index)`; returns when all have.
template <typename Body>
void RunThreads(unsigned count, Body body) {
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < count; ++i) threads.emplace_back([&body, i] { body(i); });
  for (std::thread& thread : threads) thread.join();
}

struct Setup {
  std::string dir;
  NodeMeasurements measurements;
  verifier::Policy policy;
  std::string policy_path;
  std::string allowlist_path;
  std::vector<std::unique_ptr<SimulatedNode>> nodes;
};

void Prepare(const Flags& flags, Setup& setup) {
  setup.measurements.boot_log = verifier::test::ReadFixture("eventlogs/ovmf-sb-on.bin");
  setup.measurements.runtime_log = verifier::test::ExampleRuntimeLog(20);
  // The policy every node meets: learned from one node's evidence.
  verifier::test::EvidenceFactory sample;
  verifier::Evidence evidence =
      sample.Make(tpm::ParsePcrSelection(kSelection).value(), setup.measurements.boot_log,
                  setup.measurements.runtime_log, Bytes(32, 0x42), verifier::test::SafeClock());
  setup.policy = verifier::test::PolicyFor(evidence, sample.LoadedKey());
  setup.policy.boot.secure_boot_required = true;
  setup.policy.nonce_lifetime_seconds = 60;
  setup.policy_path = setup.dir + "/policy.json";
  std::ofstream(setup.policy_path) << verifier::PolicyToJson(setup.policy).dump(2);

  // Key generation (an RSA EK takes ~50 ms) on every core.
  setup.nodes.resize(flags.nodes);
  std::atomic<std::size_t> next{0};
  RunThreads(std::max(2u, std::thread::hardware_concurrency()), [&](unsigned) {
    for (std::size_t i = next++; i < flags.nodes; i = next++) {
      setup.nodes[i] = std::make_unique<SimulatedNode>(
          "node-" + std::to_string(i) + ".bench", setup.measurements,
          flags.rsa_ek ? service::test::EkKind::kRsa2048 : service::test::EkKind::kEccP256);
    }
  });
  setup.allowlist_path = setup.dir + "/ek-allowlist";
  std::ofstream allowlist(setup.allowlist_path);
  for (const auto& node : setup.nodes) allowlist << node->node_id() << "\n";
}

// The verifiers' ports; load thread i talks to ports[i % size].
using Ports = std::vector<std::uint16_t>;

http::ClientOptions ClientFor(const Setup& setup, std::uint16_t port) {
  http::ClientOptions options;
  options.port = port;
  options.ca_bundle_path = service::StateLayout{setup.dir + "/state"}.ca_certificate();
  return options;
}

bool Trusted(const Result<service::test::AttestResult>& result) {
  if (!result.ok() || result->status != 200 || !result->body.is_object()) return false;
  const Json* verdict = FindMember(result->body, "verdict");
  const Json* trusted = verdict != nullptr ? FindMember(*verdict, "trusted") : nullptr;
  return trusted != nullptr && trusted->is_boolean() && trusted->get<bool>();
}

// Every node enrolled, then attested once with its boot log (the verifier
// caches it): what a fleet looks like after its first round.
void EnrollAll(const Setup& setup, const Ports& ports, unsigned threads) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  RunThreads(threads, [&](unsigned index) {
    auto client =
        Must(http::Client::Connect(ClientFor(setup, ports[index % ports.size()])), "connect");
    for (std::size_t i = next++; i < setup.nodes.size() && !failed; i = next++) {
      auto enrolled = setup.nodes[i]->Enroll(*client);
      auto attested = enrolled.ok() ? setup.nodes[i]->Attest(*client)
                                    : Result<service::test::AttestResult>(enrolled.error());
      if (!Trusted(attested)) {
        std::fprintf(
            stderr, "service_load: node %zu: %s\n", i,
            attested.ok() ? attested->body.dump().c_str() : attested.error().ToString().c_str());
        failed = true;
      }
    }
  });
  if (failed) std::exit(1);
}

std::string Describe(const Result<service::test::AttestResult>& result) {
  if (!result.ok()) return result.error().ToString();
  return "HTTP " + std::to_string(result->status) + " " + result->body.dump().substr(0, 300);
}

// C clients back to back over their share of the nodes for `seconds`.
PhaseResult ClosedLoop(const Setup& setup, const Ports& ports, unsigned clients, double seconds,
                       const AttestOptions& options) {
  PhaseSamples samples(clients);
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  RunThreads(clients, [&](unsigned index) {
    auto client =
        Must(http::Client::Connect(ClientFor(setup, ports[index % ports.size()])), "connect");
    Samples& mine = samples.per_thread[index];
    // Client `index` owns nodes index, index + clients, ... and cycles over them.
    const std::size_t owned = (setup.nodes.size() - index + clients - 1) / clients;
    for (std::size_t turn = 0; Clock::now() < end; ++turn) {
      SimulatedNode& node = *setup.nodes[index + clients * (turn % owned)];
      const auto began = Clock::now();
      auto result = node.Attest(*client, options);
      mine.Record(Trusted(result), began, Clock::now(), [&] { return Describe(result); });
    }
  });
  return samples.Summarize(Clock::now() - start);
}

// Arrivals at `rate`/s on a fixed schedule; `connections` workers, each
// with its share of the nodes, take the next arrival when free. Latency
// counts from the scheduled time.
PhaseResult OpenLoop(const Setup& setup, const Ports& ports, unsigned connections, double rate,
                     double seconds, const AttestOptions& options) {
  PhaseSamples samples(connections);
  const std::size_t arrivals = static_cast<std::size_t>(rate * seconds);
  std::atomic<std::size_t> next{0};
  std::vector<std::unique_ptr<http::Client>> clients(connections);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    clients[i] = Must(http::Client::Connect(ClientFor(setup, ports[i % ports.size()])), "connect");
  }
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  RunThreads(connections, [&](unsigned index) {
    Samples& mine = samples.per_thread[index];
    std::size_t turn = 0;
    for (std::size_t k = next++; k < arrivals; k = next++) {
      const auto scheduled =
          start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(k) / rate));
      std::this_thread::sleep_until(scheduled);
      // Worker `index` owns nodes index, index + connections, ...
      const std::size_t owned = (setup.nodes.size() - index + connections - 1) / connections;
      SimulatedNode& node = *setup.nodes[index + connections * (turn++ % owned)];
      auto result = node.Attest(*clients[index], options);
      mine.Record(Trusted(result), scheduled, Clock::now(), [&] { return Describe(result); });
    }
  });
  return samples.Summarize(Clock::now() - start);
}

// The verification core alone on one thread: evidence parsed from its JSON
// text and verified, the AK and policy parsed once (as the service holds
// them), for `seconds`. Steady state verifies against the cached boot state
// and from the runtime cursor.
double CoreRate(const Setup& setup, bool with_boot_log, double seconds) {
  verifier::test::EvidenceFactory factory;
  const Bytes nonce(32, 0x42);
  const auto selection = tpm::ParsePcrSelection(kSelection).value();
  verifier::Evidence full =
      factory.Make(selection, setup.measurements.boot_log, setup.measurements.runtime_log, nonce,
                   verifier::test::SafeClock());
  const verifier::AttestationKey key = factory.LoadedKey();
  verifier::VerificationInput first{full, key, setup.policy, nonce, std::nullopt};
  verifier::Verdict verdict = verifier::VerifyEvidence(first);
  if (!verdict.trusted || !verdict.verified_boot || !verdict.verified_runtime) {
    std::fprintf(stderr, "service_load: the core does not trust the sample evidence\n");
    std::exit(1);
  }
  const verifier::VerifiedBootState cached = *verdict.verified_boot;
  const verifier::VerifiedRuntimeState cached_runtime = *verdict.verified_runtime;
  verifier::Evidence sent = full;
  if (!with_boot_log) {
    sent.boot_log.reset();
    sent.runtime_log_start = sent.runtime_log->entries.size();
    sent.runtime_log->entries.clear();
  }
  const std::string text = verifier::EvidenceToJson(sent).value().dump();
  std::size_t count = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    for (int i = 0; i < 20; ++i, ++count) {
      Result<verifier::Evidence> parsed = verifier::ParseEvidence(text, "evidence");
      verifier::VerificationInput input{*parsed, key, setup.policy, nonce, std::nullopt};
      if (!with_boot_log) {
        input.cached_boot = &cached;
        input.cached_runtime = &cached_runtime;
      }
      if (!verifier::VerifyEvidence(input).trusted) std::exit(1);
    }
  }
  return static_cast<double>(count) / std::chrono::duration<double>(Clock::now() - start).count();
}

// The verifiers under load: one in-process or `verifier serve` subprocess,
// or --verifiers N subprocesses on one PostgreSQL database, the first on
// the state directory init made and each other on a copy of it (the same
// key files, as an operator provisions them on every verifier).
std::vector<VerifierUnderTest> StartVerifiers(const Flags& flags, const Setup& setup,
                                              const service::ServiceConfig& config,
                                              const SystemClock& clock) {
  std::vector<VerifierUnderTest> verifiers;
  if (flags.verifier.empty()) {
    verifiers.push_back(VerifierUnderTest::InProcess(config, clock));
    return verifiers;
  }
  for (unsigned v = 0; v < flags.verifiers; ++v) {
    service::ServiceConfig own = config;
    if (v > 0) {
      own.state_dir = config.state_dir + "-" + std::to_string(v + 1);
      std::filesystem::copy(config.state_dir, own.state_dir,
                            std::filesystem::copy_options::recursive);
    }
    verifiers.push_back(VerifierUnderTest::Subprocess(
        flags.verifier, own, setup.dir + "/verifier-" + std::to_string(v + 1) + ".toml"));
  }
  return verifiers;
}

bool Wants(const Flags& flags, const std::string& phase) {
  return ("," + flags.phases + ",").find("," + phase + ",") != std::string::npos;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  Setup setup;
  setup.dir = MakeTempDirectory("service_load");
  std::fprintf(stderr, "service_load: %zu nodes (%s EKs) in %s\n", flags.nodes,
               flags.rsa_ek ? "RSA-2048" : "P-256", setup.dir.c_str());
  Prepare(flags, setup);

  const BenchStorage storage = BenchStorage::Open(flags.storage);
  service::InitOptions init;
  init.state_dir = setup.dir + "/state";
  init.ledger_origin = "bench.example/verifier";
  init.storage = storage.url();
  SystemClock wall_clock;
  Must(service::InitStateDirectory(init, wall_clock), "verifier init");
  service::ServiceConfig config;
  config.listen = "127.0.0.1:0";
  config.state_dir = init.state_dir;
  config.storage = storage.url();
  config.ek_allowlist = setup.allowlist_path;
  config.policy_file = setup.policy_path;
  config.threads = flags.server_threads;
  const unsigned server_threads =
      service::ServingThreads(config, std::thread::hardware_concurrency());
  config.max_connections = 4096;
  // The generator speaks for a whole fleet from one address, each node far
  // more often than a real one: the per-address and per-node limits would
  // measure themselves.
  config.max_connections_per_address = config.max_connections;
  config.rate_limit = {1e6, 1e6};

  std::vector<VerifierUnderTest> verifiers = StartVerifiers(flags, setup, config, wall_clock);
  Ports ports;
  CpuMeter cpu;
  std::string description;
  for (std::size_t v = 0; v < verifiers.size(); ++v) {
    ports.push_back(verifiers[v].port());
    const std::string name =
        verifiers.size() > 1 ? "verifier-" + std::to_string(v + 1) : "verifier";
    if (verifiers[v].pid() != 0) cpu.AddProcess(name, verifiers[v].pid());
    description += (v > 0 ? "; " : "") + verifiers[v].description();
  }
  if (storage.postmaster_pid() != 0) cpu.AddServerTree("postgres", storage.postmaster_pid());
  cpu.AddProcess(verifiers[0].pid() != 0 ? "load generator" : "load generator + verifier", 0);

  const auto enroll_start = Clock::now();
  EnrollAll(setup, ports, 8);
  std::fprintf(stderr, "service_load: enrolled and attested %zu nodes in %.1f s\n", flags.nodes,
               std::chrono::duration<double>(Clock::now() - enroll_start).count());
  Report report(flags.nodes, server_threads, description, storage.description());
  for (VerifierUnderTest& verifier : verifiers) {
    report.Memory("after enrollment", verifier.Memory());
  }
  // A phase with the CPU every process spent in it.
  auto measured = [&](const std::string& name, auto run) {
    const CpuMeter::Snapshot before = cpu.Sample();
    PhaseResult result = run();
    report.Phase(name, result);
    report.Cpu(cpu.Spent(before, cpu.Sample()), result.seconds, result.completed);
    return result;
  };

  const AttestOptions steady{false, false};
  const AttestOptions first{true, false};
  std::optional<PhaseResult> steady_closed;
  std::optional<PhaseResult> first_closed;
  const std::string closed = " (" + std::to_string(flags.clients) + " clients)";
  if (flags.warmup > 0) {
    const PhaseResult warm = ClosedLoop(setup, ports, flags.clients, flags.warmup, steady);
    std::fprintf(
        stderr,
        "service_load: warmed up for %.0f s (%.0f attestations/s, %zu failed; not reported)\n",
        warm.seconds, warm.rate, warm.failures);
  }
  if (Wants(flags, "steady")) {
    steady_closed = measured("closed, steady" + closed, [&] {
      return ClosedLoop(setup, ports, flags.clients, flags.seconds, steady);
    });
  }
  if (Wants(flags, "first")) {
    first_closed = measured("closed, first contact" + closed, [&] {
      return ClosedLoop(setup, ports, flags.clients, flags.seconds, first);
    });
  }
  const std::string offered = std::to_string(static_cast<int>(flags.rate)) + "/s";
  if (Wants(flags, "open-steady")) {
    measured("open " + offered + ", steady", [&] {
      return OpenLoop(setup, ports, flags.connections, flags.rate, flags.seconds, steady);
    });
  }
  if (Wants(flags, "open-first")) {
    measured("open " + offered + ", first contact", [&] {
      return OpenLoop(setup, ports, flags.connections, flags.rate, flags.seconds, first);
    });
  }
  for (VerifierUnderTest& verifier : verifiers) report.Memory("after the runs", verifier.Memory());
  if (Wants(flags, "core")) {
    const double steady_core = CoreRate(setup, false, 3);
    const double first_core = CoreRate(setup, true, 3);
    const unsigned threads = server_threads * static_cast<unsigned>(verifiers.size());
    if (steady_closed) report.Core("steady", steady_closed->rate, steady_core, threads);
    if (first_closed) report.Core("first contact", first_closed->rate, first_core, threads);
  }
  report.Print();
  for (VerifierUnderTest& verifier : verifiers) verifier.Stop();
  std::filesystem::remove_all(setup.dir);
  return 0;
}

}  // namespace
}  // namespace attest::bench

int main(int argc, char** argv) { return attest::bench::Main(argc, argv); }
