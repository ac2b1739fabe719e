// One node and its verifier as real processes on loopback, for the
// end-to-end tests and the benchmark: a private swtpm with the repository's
// OVMF boot log (Secure Boot off) replayed into its PCRs, a policy `verifier
// policy learn` drafted from `attestd evidence`, `verifier serve` on
// 127.0.0.1 and `attestd run`, each with its state in one temp dir. It
// starts, stops, kills and restarts each process, and waits for what the
// node or the verifier says, by polling, with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/attestd/node_state.h"
#include "attest/error.h"
#include "attest/json.h"
#include "attest/testing/test_support.h"

#include "child_process.h"
#include "harness/swtpm_simulator.h"

namespace attest::test {

struct E2eOptions {
  std::string hostname = "e2e-node";
  // The policy's certificates.lifetime_seconds (attestd renews at 2/3).
  std::int64_t certificate_lifetime_seconds = 3600;
  // attestd's schedule and the policy's attestation.interval_seconds.
  int interval_seconds = 1;
  int retry_max_seconds = 2;
  // A signer key (release.key, unencrypted) whose approvals the verifier's
  // policy.approval_keys counts.
  bool approval_key = false;
};

// The binaries under test (CMake puts their paths in at build time).
struct E2eBinaries {
  static std::string Attestd();
  static std::string Verifier();
  static std::string Signer();
};

class E2eDeployment {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  static Deadline In(std::chrono::milliseconds from_now) {
    return std::chrono::steady_clock::now() + from_now;
  }

  // Manufactures the TPM, replays the boot log, learns the policy and runs
  // `verifier init`; starts nothing else.
  static Result<std::unique_ptr<E2eDeployment>> Create(const E2eOptions& options = {});
  ~E2eDeployment();
  E2eDeployment(const E2eDeployment&) = delete;
  E2eDeployment& operator=(const E2eDeployment&) = delete;

  // A webhook receiver the verifier posts to (set before StartVerifier).
  void SetWebhook(const std::string& url, const std::string& ca_bundle);
  // First start: port 0, and attestd's configuration is pointed at the port
  // it got; later starts listen on that same port again.
  Status StartVerifier();
  // SIGTERM; its exit code (0 expected) or an error when it did not exit.
  Result<int> StopVerifier();

  Status StartAttestd(const std::map<std::string, std::string>& environment = {});
  // SIGTERM; its exit code, or an error when it did not exit in 15 s.
  Result<int> StopAttestd();
  void KillAttestd();  // SIGKILL
  void SignalAttestd(int signal) const { attestd_.Signal(signal); }
  bool attestd_running() const { return attestd_.running(); }
  bool verifier_running() const { return verifier_.running(); }

  // status.json (what `attestd status` reads) once it satisfies `match`.
  Result<attestd::AttestationStatus> WaitForAttestd(
      const std::function<bool(const attestd::AttestationStatus&)>& match, Deadline deadline,
      std::string_view what);
  // GET /v1/nodes/ID once it satisfies `match`.
  Result<Json> WaitForNode(const std::string& node_id,
                           const std::function<bool(const Json&)>& match, Deadline deadline,
                           std::string_view what);

  // The verifier's API with the admin token `verifier init` printed (or
  // none): status code and body (parsed when JSON, else a string).
  struct ApiAnswer {
    int status = 0;
    Json body;
  };
  Result<ApiAnswer> Api(std::string_view method, std::string_view target,
                        std::string_view body = {}, bool authenticated = true);
  // Every ledger entry so far.
  Result<std::vector<Json>> LedgerEntries();

  Result<std::optional<attestd::NodeIdentity>> Identity() const;
  Result<std::optional<attestd::AttestationStatus>> AttestdStatus() const;
  Result<std::string> NodeId() const;

  // Runs a tool (no shell) with RunCommand.
  CommandResult Tool(const std::vector<std::string>& argv) const;

  SwtpmSimulator& swtpm() { return *swtpm_; }
  const std::string& directory() const { return directory_->path(); }
  std::string File(const std::string& name) const { return directory_->File(name); }
  std::string attestd_config() const { return File("attestd.toml"); }
  std::string attestd_state() const { return File("attestd-state"); }
  std::string certificate_dir() const { return File("identity"); }
  std::string boot_log() const { return File("boot-log.bin"); }
  std::string runtime_file(const std::string& name) const { return File("runtime/" + name); }
  std::string verifier_state() const { return File("verifier"); }
  std::string verifier_ca() const { return File("verifier/ca.pem"); }
  std::string verifier_ledger() const { return File("verifier/ledger.db"); }
  std::string approval_key() const { return File("release.key"); }
  std::string attestd_log_path() const { return File("attestd.log"); }
  std::string attestd_log() const { return ReadText(attestd_log_path()); }
  std::string verifier_log() const { return ReadText(File("verifier.log")); }
  std::uint16_t port() const { return port_; }
  const std::string& admin_token() const { return admin_token_; }
  const E2eOptions& options() const { return options_; }

 private:
  explicit E2eDeployment(const E2eOptions& options);
  Status Setup();
  Status ReplayBootLog();
  Status LearnPolicy();
  void WriteAttestdConfig() const;
  void WriteVerifierConfig() const;
  Result<std::uint16_t> WaitForServing(std::size_t log_offset);

  E2eOptions options_;
  std::unique_ptr<TempDir> directory_;
  std::unique_ptr<SwtpmSimulator> swtpm_;
  ChildProcess verifier_;
  ChildProcess attestd_;
  std::uint16_t port_ = 0;
  std::string admin_token_;
  std::optional<std::pair<std::string, std::string>> webhook_;
};

}  // namespace attest::test
