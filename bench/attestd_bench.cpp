// attestd's cost on a host (issue 13 §5), against a private swtpm whose PCRs
// hold the repository's OVMF boot log and a verifier service in this
// process:
//   - the CPU one attestation cycle costs attestd (the calling thread's
//     CPU time, RUSAGE_THREAD: the verifier serves on threads of its own),
//     with --runtime-mb of runtime files hashed every cycle;
//   - the end-to-end latency of one cycle (measure, challenge, quote,
//     evidence, verdict), median and p90 of --cycles;
//   - the idle RSS of the real `attestd run` process (--attestd BINARY)
//     once it is trusted and waiting for its next interval.
// Not a Google Benchmark: it prints its own figures.
//
// Run: attestd_bench [--runtime-mb 100] [--cycles 50] [--attestd build/attestd/attestd]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/attestd/config.h"
#include "attest/attestd/node_agent.h"
#include "attest/attestd/node_state.h"
#include "attest/attestd/verifier_client.h"
#include "attest/file.h"
#include "attest/service/operations.h"
#include "attest/testing/test_support.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/policy_learn.h"

#include "boot_log_replay.h"
#include "harness/swtpm_simulator.h"
#include "service_load_verifier.h"

namespace attest::bench {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "attestd_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> result, const char* what) {
  if (!result.ok()) Fail(std::string(what) + ": " + result.error().ToString());
  return std::move(result).value();
}
void Must(Status status, const char* what) {
  if (!status.ok()) Fail(std::string(what) + ": " + status.error().ToString());
}

struct Flags {
  std::size_t runtime_mb = 100;
  int cycles = 50;
  std::string attestd;  // the binary for the RSS figure; none: skipped
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--runtime-mb" && has_value) {
      flags.runtime_mb = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--cycles" && has_value) {
      flags.cycles = std::atoi(argv[++i]);
    } else if (arg == "--attestd" && has_value) {
      flags.attestd = argv[++i];
    } else {
      Fail("usage: attestd_bench [--runtime-mb N] [--cycles N] [--attestd BINARY]");
    }
  }
  return flags;
}

double ThreadCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Four files of a quarter of the total each, random bytes (nothing to
// compress or skip).
std::vector<std::string> WriteRuntimeFiles(const std::string& dir, std::size_t total_mb) {
  std::vector<std::string> paths;
  std::mt19937_64 random(1);
  std::vector<std::uint64_t> block(1 << 17);  // 1 MiB
  for (int i = 0; i < 4; ++i) {
    const std::string path = dir + "/runtime-" + std::to_string(i);
    std::ofstream out(path, std::ios::binary);
    for (std::size_t mb = 0; mb < total_mb / 4; ++mb) {
      for (std::uint64_t& word : block) word = random();
      out.write(reinterpret_cast<const char*>(block.data()),
                static_cast<std::streamsize>(block.size() * sizeof(block[0])));
    }
    paths.push_back(path);
  }
  return paths;
}

double Percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1))];
}

// kB of a /proc/PID/status line ("VmRSS:", "RssAnon:", "RssFile:").
long StatusKb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  }
  return -1;
}

void WriteAttestdConfig(const std::string& path, const attestd::AttestdConfig& config) {
  std::string files;
  for (const std::string& file : config.runtime_files) {
    files += (files.empty() ? "\"" : ", \"") + file + "\"";
  }
  test::WriteText(
      path, "state_dir = \"" + config.state_dir + "\"\n[tpm]\ntcti = \"" + config.tcti +
                "\"\n[verifier]\nurl = \"" + config.verifiers.at(0).url + "\"\nca_bundle = \"" +
                config.verifier_ca_bundle + "\"\n[node]\ncertificate_dir = \"" +
                config.certificate_dir + "\"\n[measurement]\nboot_log = \"" + config.boot_log +
                "\"\nruntime_files = [" + files + "]\nruntime_log = \"" + config.runtime_log +
                "\"\n[schedule]\ninterval_seconds = 30\njitter_seconds = 0\n");
}

// `attestd run` as its own process: its RSS once trusted and idle.
void MeasureIdleRss(const std::string& binary, const std::string& config_path,
                    const std::string& state_dir) {
  const pid_t pid = fork();
  if (pid < 0) Fail("fork");
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    execl(binary.c_str(), binary.c_str(), "run", "--config", config_path.c_str(), nullptr);
    _exit(127);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  bool trusted = false;
  while (Clock::now() < deadline && !trusted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Result<std::optional<attestd::AttestationStatus>> status = attestd::LoadStatus(state_dir);
    trusted = status.ok() && *status && (*status)->state == "trusted" && (*status)->time > 0;
  }
  if (!trusted) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    Fail("attestd run did not become trusted within 60 s");
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // idle, waiting for the next interval
  const long rss = StatusKb(pid, "VmRSS:");
  const long anon = StatusKb(pid, "RssAnon:");
  const long file = StatusKb(pid, "RssFile:");
  const long peak = StatusKb(pid, "VmHWM:");
  kill(pid, SIGTERM);
  int wait_status = 0;
  waitpid(pid, &wait_status, 0);
  std::printf(
      "attestd run, idle after a trusted cycle: RSS %.1f MiB (anonymous %.1f, file-backed "
      "%.1f), peak %.1f MiB; exit after SIGTERM %d\n",
      static_cast<double>(rss) / 1024, static_cast<double>(anon) / 1024,
      static_cast<double>(file) / 1024, static_cast<double>(peak) / 1024,
      WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  const std::string dir = MakeTempDirectory("attestd_bench");
  std::fprintf(stderr, "attestd_bench: %zu MB of runtime files, %d cycles, in %s\n",
               flags.runtime_mb, flags.cycles, dir.c_str());
  auto swtpm = Must(test::SwtpmSimulator::Start({.pcr_banks = "sha256"}), "swtpm");
  const std::string boot_log = std::string(ATTEST_FIXTURES_DIR) + "/eventlogs/ovmf-sb-off.bin";
  {
    auto tpm = Must(attestd::Tpm::Open(swtpm->tcti()), "open the TPM");
    Must(swtpm_boot::ReplayBootLog(*tpm, AsBytes(test::ReadText(boot_log))), "replay the boot log");
  }

  attestd::AttestdConfig config;
  config.tcti = swtpm->tcti();
  config.state_dir = dir + "/attestd";
  config.certificate_dir = dir + "/identity";
  config.boot_log = boot_log;
  config.runtime_log = dir + "/runtime-log.json";
  std::filesystem::create_directories(dir + "/runtime");
  config.runtime_files = WriteRuntimeFiles(dir + "/runtime", flags.runtime_mb);

  // The policy: what `verifier policy learn` drafts from this node.
  SystemClock clock;
  std::string policy_path = dir + "/policy.json";
  {
    auto agent = Must(attestd::NodeAgent::Open(config, clock), "attestd");
    const Bytes nonce(32, 0x5a);
    auto selection = Must(tpm::ParsePcrSelection("sha256:0,1,2,3,4,5,6,7,15"), "selection");
    auto evidence = Must(agent->OfflineEvidence(nonce, selection), "evidence");
    auto key = Must(verifier::ParseAttestationKey(agent->AkPublic()), "AK");
    verifier::Policy policy = Must(verifier::LearnPolicy(evidence, key), "policy learn");
    policy.certificate_lifetime_seconds = 3600;
    Must(WriteFileAtomically(policy_path, verifier::PolicyToJson(policy).dump(2), 0644),
         "write policy");
  }
  test::WriteText(dir + "/tpm-ca.pem", test::ReadText(swtpm->root_certificate_path()) +
                                           test::ReadText(swtpm->issuer_certificate_path()));
  service::InitOptions init;
  init.state_dir = dir + "/verifier";
  init.ledger_origin = "bench.example/verifier";
  Must(service::InitStateDirectory(init, clock), "verifier init");
  service::ServiceConfig service_config;
  service_config.listen = "127.0.0.1:0";
  service_config.state_dir = init.state_dir;
  service_config.tpm_ca_bundle = dir + "/tpm-ca.pem";
  service_config.policy_file = policy_path;
  // One node attesting back to back, far more often than a real one.
  service_config.rate_limit = {1e6, 1e6};
  VerifierUnderTest verifier = VerifierUnderTest::InProcess(service_config, clock);
  config.verifiers = {Must(
      attestd::ParseVerifierUrl("https://127.0.0.1:" + std::to_string(verifier.port())), "url")};
  config.verifier_ca_bundle = init.state_dir + "/ca.pem";

  std::vector<double> latency_ms;
  std::vector<double> cpu_ms;
  {
    auto agent = Must(attestd::NodeAgent::Open(config, clock), "attestd");
    attestd::VerifierClient client(config);
    const auto enroll_start = Clock::now();
    Must(agent->EnsureEnrolled(client), "enroll");
    std::printf("enrollment (EK read, ActivateCredential, two requests): %.0f ms\n",
                std::chrono::duration<double, std::milli>(Clock::now() - enroll_start).count());
    const auto first_start = Clock::now();
    const double first_cpu = ThreadCpuSeconds();
    auto first = Must(agent->Attest(client, false), "first attestation");
    std::printf(
        "first cycle (boot log sent, CSR + TPM2_Certify, certificate): %.0f ms wall, "
        "%.0f ms CPU; %s\n",
        std::chrono::duration<double, std::milli>(Clock::now() - first_start).count(),
        (ThreadCpuSeconds() - first_cpu) * 1e3, first.state.c_str());
    if (!first.trusted) Fail("the node is not trusted: " + first.reasons[0].code);
    for (int i = 0; i < flags.cycles; ++i) {
      const auto start = Clock::now();
      const double cpu = ThreadCpuSeconds();
      auto outcome = Must(agent->Attest(client, false), "attestation");
      cpu_ms.push_back((ThreadCpuSeconds() - cpu) * 1e3);
      latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      if (!outcome.trusted) Fail("a steady cycle was not trusted");
    }
  }
  std::printf(
      "steady cycle (%zu MB rehashed, boot log cached, runtime log from the cursor), "
      "%d cycles:\n  latency median %.1f ms, p90 %.1f ms; attestd CPU median %.1f ms, "
      "p90 %.1f ms\n",
      flags.runtime_mb, flags.cycles, Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.9),
      Percentile(cpu_ms, 0.5), Percentile(cpu_ms, 0.9));
  if (!flags.attestd.empty()) {
    WriteAttestdConfig(dir + "/attestd.toml", config);
    MeasureIdleRss(flags.attestd, dir + "/attestd.toml", config.state_dir);
  }
  verifier.Stop();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace attest::bench

int main(int argc, char** argv) { return attest::bench::Main(argc, argv); }
