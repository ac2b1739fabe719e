#include "e2e_deployment.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "attest/attestd/tpm.h"
#include "attest/bytes.h"
#include "attest/encoding.h"
#include "attest/http/client.h"
#include "attest/testdata.h"
#include "attest/verifier/event_log.h"

#include "boot_log_replay.h"

namespace attest::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Error Failed(const std::string& message) { return MakeError(ErrorCode::kIo, message); }

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string Quoted(const std::string& text) { return Json(text).dump(); }

Error ToolFailed(const std::vector<std::string>& argv, const CommandResult& result) {
  std::string command;
  for (const std::string& arg : argv) command += (command.empty() ? "" : " ") + arg;
  return Failed(command + ": exit " + std::to_string(result.exit_code) + "\n" + result.out +
                result.err);
}

}  // namespace

std::string E2eBinaries::Attestd() { return ATTEST_E2E_ATTESTD; }
std::string E2eBinaries::Verifier() { return ATTEST_E2E_VERIFIER; }
std::string E2eBinaries::Signer() { return ATTEST_E2E_SIGNER; }

E2eDeployment::E2eDeployment(const E2eOptions& options)
    : options_(options), directory_(std::make_unique<TempDir>("e2e")) {}

E2eDeployment::~E2eDeployment() {
  attestd_.Kill();
  verifier_.Kill();
}

Result<std::unique_ptr<E2eDeployment>> E2eDeployment::Create(const E2eOptions& options) {
  std::unique_ptr<E2eDeployment> deployment(new E2eDeployment(options));
  ATTEST_RETURN_IF_ERROR(deployment->Setup());
  return deployment;
}

CommandResult E2eDeployment::Tool(const std::vector<std::string>& argv) const {
  return RunCommand(argv);
}

Status E2eDeployment::Setup() {
  SwtpmOptions tpm_options;
  tpm_options.pcr_banks = "sha256";  // the bank the log is replayed into and quoted
  ATTEST_ASSIGN_OR_RETURN(swtpm_, SwtpmSimulator::Start(tpm_options));
  // The EK certificate's issuer and root: the verifier's TPM vendor CAs.
  WriteText(File("tpm-ca.pem"), ReadText(swtpm_->root_certificate_path()) +
                                    ReadText(swtpm_->issuer_certificate_path()));
  std::filesystem::create_directories(File("runtime"));
  WriteText(runtime_file("runc"), "runc 1.1.12\n");
  WriteText(runtime_file("containerd"), "containerd 1.7.13\n");
  ATTEST_RETURN_IF_ERROR(ReplayBootLog());
  WriteAttestdConfig();
  ATTEST_RETURN_IF_ERROR(LearnPolicy());

  const std::vector<std::string> init = {E2eBinaries::Verifier(), "init", "--state-dir",
                                         verifier_state()};
  CommandResult initialized = Tool(init);
  if (initialized.exit_code != 0) return ToolFailed(init, initialized);
  admin_token_ = Trim(initialized.out);
  if (options_.approval_key) {
    const std::vector<std::string> keygen = {E2eBinaries::Signer(), "keygen", "--out",
                                             File("release"), "--unencrypted"};
    CommandResult made = Tool(keygen);
    if (made.exit_code != 0) return ToolFailed(keygen, made);
  }
  return OkStatus();
}

// The fixture's sha256 digests extended in log order, as the firmware did
// (swtpm_simulator's PCRs start from zeros after TPM2_Startup(CLEAR), as
// the log's locality-0 PCRs do on the machine it was recorded on). The
// connection is closed after: swtpm serves one client at a time.
Status E2eDeployment::ReplayBootLog() {
  const std::string fixture = testdata::FixturePath("eventlogs/ovmf-sb-off.bin");
  const std::string log_text = ReadText(fixture);
  WriteText(boot_log(), log_text);
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<attestd::Tpm> tpm, attestd::Tpm::Open(swtpm_->tcti()));
  return swtpm_boot::ReplayBootLog(*tpm, AsBytes(log_text));
}

void E2eDeployment::WriteAttestdConfig() const {
  const std::string url = "https://127.0.0.1:" + std::to_string(port_ == 0 ? 1 : port_);
  WriteText(attestd_config(),
            "state_dir = " + Quoted(attestd_state()) +
                "\n"
                "[tpm]\n"
                "tcti = " +
                Quoted(swtpm_->tcti()) +
                "\n"
                "[verifier]\n"
                "url = " +
                Quoted(url) + "\nca_bundle = " + Quoted(verifier_ca()) +
                "\ntimeout_seconds = 5\n"
                "[node]\n"
                "hostname = " +
                Quoted(options_.hostname) + "\ncertificate_dir = " + Quoted(certificate_dir()) +
                "\n"
                "[measurement]\n"
                "boot_log = " +
                Quoted(boot_log()) + "\nruntime_files = [" + Quoted(runtime_file("runc")) + ", " +
                Quoted(runtime_file("containerd")) +
                "]\nruntime_log = " + Quoted(File("runtime-log.json")) +
                "\n"
                "[schedule]\n"
                "interval_seconds = " +
                std::to_string(options_.interval_seconds) +
                "\njitter_seconds = 0\nretry_min_seconds = 1\nretry_max_seconds = " +
                std::to_string(options_.retry_max_seconds) + "\n");
}

// `attestd evidence` (the real boot log and runtime measurements, quoted
// by this TPM), then `verifier policy learn`, with the short intervals and
// certificate lifetime the tests want.
Status E2eDeployment::LearnPolicy() {
  const std::vector<std::string> evidence = {E2eBinaries::Attestd(),
                                             "evidence",
                                             "--config",
                                             attestd_config(),
                                             "--nonce",
                                             std::string(64, 'a'),
                                             "--out",
                                             File("known-good-evidence.json"),
                                             "--ak-out",
                                             File("ak.pub")};
  CommandResult made = Tool(evidence);
  if (made.exit_code != 0) return ToolFailed(evidence, made);
  const std::vector<std::string> learn = {E2eBinaries::Verifier(),
                                          "policy",
                                          "learn",
                                          "--evidence",
                                          File("known-good-evidence.json"),
                                          "--ak",
                                          File("ak.pub"),
                                          "--out",
                                          File("policy.json"),
                                          "--name",
                                          "e2e"};
  CommandResult learned = Tool(learn);
  if (learned.exit_code != 0) return ToolFailed(learn, learned);
  ATTEST_ASSIGN_OR_RETURN(Json policy, ParseJsonStrict(ReadText(File("policy.json"))));
  policy["attestation"]["interval_seconds"] = options_.interval_seconds;
  policy["certificates"]["lifetime_seconds"] = options_.certificate_lifetime_seconds;
  policy["certificates"]["trust_domain"] = "e2e.test";
  WriteText(File("policy.json"), policy.dump(2));
  return OkStatus();
}

void E2eDeployment::SetWebhook(const std::string& url, const std::string& ca_bundle) {
  webhook_ = {url, ca_bundle};
}

void E2eDeployment::WriteVerifierConfig() const {
  std::string text = "listen = " + Quoted("127.0.0.1:" + std::to_string(port_)) +
                     "\nstate_dir = " + Quoted(verifier_state()) +
                     "\n[enrollment]\ntpm_ca_bundle = " + Quoted(File("tpm-ca.pem")) +
                     "\n[policy]\nfile = " + Quoted(File("policy.json")) + "\n";
  if (options_.approval_key) text += "approval_keys = [" + Quoted(File("release.pub")) + "]\n";
  // The test's own requests come from 127.0.0.1 too: no rate limit in the way.
  text += "[limits]\nrate_per_second = 1000\nrate_burst = 1000\n";
  if (webhook_) {
    text += "[[webhooks]]\nurl = " + Quoted(webhook_->first) +
            "\nca_bundle = " + Quoted(webhook_->second) + "\n";
  }
  WriteText(File("verifier.toml"), text);
}

Result<std::uint16_t> E2eDeployment::WaitForServing(std::size_t log_offset) {
  constexpr std::string_view kMarker = "verifier: serving on ";
  const Deadline deadline = In(seconds(30));
  for (;;) {
    const std::string log = ReadText(File("verifier.log"));
    const std::size_t at = log.find(kMarker, log_offset);
    if (at != std::string::npos) {
      const std::size_t port_at = log.find("(port ", at);
      const std::size_t end = log.find(')', port_at);
      if (port_at != std::string::npos && end != std::string::npos) {
        return static_cast<std::uint16_t>(std::stoi(log.substr(port_at + 6, end - port_at - 6)));
      }
    }
    if (std::optional<int> exited = verifier_.Wait(milliseconds(0))) {
      return Failed("verifier serve exited " + std::to_string(*exited) + ":\n" +
                    log.substr(log_offset));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Failed("verifier serve did not say it serves within 30 s:\n" + log);
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Status E2eDeployment::StartVerifier() {
  if (verifier_.running()) return Failed("the verifier is running already");
  WriteVerifierConfig();
  const std::string log_path = File("verifier.log");
  const std::size_t offset =
      std::filesystem::exists(log_path) ? std::filesystem::file_size(log_path) : 0;
  ATTEST_ASSIGN_OR_RETURN(verifier_, ChildProcess::Start({E2eBinaries::Verifier(), "serve",
                                                          "--config", File("verifier.toml")},
                                                         log_path));
  ATTEST_ASSIGN_OR_RETURN(std::uint16_t port, WaitForServing(offset));
  if (port_ == 0) {
    port_ = port;
    WriteAttestdConfig();
  } else if (port != port_) {
    return Failed("the verifier came back on port " + std::to_string(port) + ", not " +
                  std::to_string(port_));
  }
  return OkStatus();
}

Result<int> E2eDeployment::StopVerifier() {
  verifier_.Signal(SIGTERM);
  std::optional<int> code = verifier_.Wait(seconds(15));
  if (!code) return Failed("verifier serve did not exit within 15 s of SIGTERM");
  return *code;
}

Status E2eDeployment::StartAttestd(const std::map<std::string, std::string>& environment) {
  if (attestd_.running()) return Failed("attestd is running already");
  ATTEST_ASSIGN_OR_RETURN(
      attestd_, ChildProcess::Start({E2eBinaries::Attestd(), "run", "--config", attestd_config()},
                                    attestd_log_path(), environment));
  return OkStatus();
}

Result<int> E2eDeployment::StopAttestd() {
  attestd_.Signal(SIGTERM);
  std::optional<int> code = attestd_.Wait(seconds(15));
  if (!code) return Failed("attestd did not exit within 15 s of SIGTERM");
  return *code;
}

void E2eDeployment::KillAttestd() { attestd_.Kill(); }

Result<std::optional<attestd::NodeIdentity>> E2eDeployment::Identity() const {
  return attestd::LoadIdentity(attestd_state());
}

Result<std::optional<attestd::AttestationStatus>> E2eDeployment::AttestdStatus() const {
  return attestd::LoadStatus(attestd_state());
}

Result<std::string> E2eDeployment::NodeId() const {
  ATTEST_ASSIGN_OR_RETURN(std::optional<attestd::NodeIdentity> identity, Identity());
  if (!identity) return Failed("attestd has no identity yet");
  return identity->node_id;
}

Result<attestd::AttestationStatus> E2eDeployment::WaitForAttestd(
    const std::function<bool(const attestd::AttestationStatus&)>& match, Deadline deadline,
    std::string_view what) {
  std::string last = "no status.json";
  for (;;) {
    Result<std::optional<attestd::AttestationStatus>> status = AttestdStatus();
    if (status.ok() && *status) {
      if (match(**status)) return **status;
      last = (*status)->state +
             ((*status)->reasons.empty() ? "" : " " + (*status)->reasons[0].code) +
             ((*status)->problem.empty() ? "" : " (" + (*status)->problem + ")");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Failed("attestd never got to " + std::string(what) + "; last status: " + last +
                    "\nattestd log:\n" + attestd_log());
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

Result<E2eDeployment::ApiAnswer> E2eDeployment::Api(std::string_view method,
                                                    std::string_view target, std::string_view body,
                                                    bool authenticated) {
  http::ClientOptions options;
  options.port = port_;
  options.ca_bundle_path = verifier_ca();
  options.timeout = milliseconds(5000);
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client, http::Client::Connect(options));
  std::vector<std::pair<std::string, std::string>> headers;
  if (authenticated) headers.emplace_back("Authorization", "Bearer " + admin_token_);
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  ATTEST_ASSIGN_OR_RETURN(http::ClientResponse response,
                          client->Send(method, target, body, headers));
  ApiAnswer answer;
  answer.status = response.status;
  Result<Json> parsed = ParseJsonStrict(response.body);
  answer.body = parsed.ok() ? *parsed : Json(response.body);
  return answer;
}

Result<Json> E2eDeployment::WaitForNode(const std::string& node_id,
                                        const std::function<bool(const Json&)>& match,
                                        Deadline deadline, std::string_view what) {
  std::string last;
  for (;;) {
    Result<ApiAnswer> answer = Api("GET", "/v1/nodes/" + node_id);
    if (answer.ok() && answer->status == 200) {
      if (match(answer->body)) return answer->body;
      last = answer->body.dump();
    } else {
      last = answer.ok() ? std::to_string(answer->status) + " " + answer->body.dump()
                         : answer.error().message;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Failed("the verifier never said node " + node_id + " is " + std::string(what) +
                    "; last answer: " + last + "\nattestd log:\n" + attestd_log());
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

Result<std::vector<Json>> E2eDeployment::LedgerEntries() {
  std::vector<Json> entries;
  for (std::uint64_t from = 1;; from += 1000) {
    ATTEST_ASSIGN_OR_RETURN(ApiAnswer page,
                            Api("GET", "/v1/ledger/entries?from=" + std::to_string(from)));
    if (page.status != 200) return Failed("GET /v1/ledger/entries: " + page.body.dump());
    for (const Json& entry : page.body["entries"]) entries.push_back(entry);
    if (entries.size() >= page.body["size"].get<std::uint64_t>() || page.body["entries"].empty()) {
      return entries;
    }
  }
}

}  // namespace attest::test
