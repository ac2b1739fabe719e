#include "attest/attestd/daemon.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <optional>

#include <signal.h>

#include "attest/attestd/config.h"
#include "attest/attestd/daemon_log.h"
#include "attest/attestd/node_agent.h"
#include "attest/attestd/service_notifier.h"
#include "attest/file.h"

namespace attest::attestd {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::int64_t UnixNow() { return UnixSeconds(std::chrono::system_clock::now()); }

std::string Summary(const CycleOutcome& outcome) {
  std::string text = outcome.state;
  for (std::size_t i = 0; i < outcome.reasons.size() && i < 3; ++i) {
    text += (i == 0 ? ": " : ", ") + outcome.reasons[i].code;
  }
  return text;
}

// The daemon's state between cycles.
class Daemon {
 public:
  Daemon(std::string config_path, AttestdConfig config, std::ostream& log)
      : config_path_(std::move(config_path)),
        config_(std::move(config)),
        log_(log),
        random_(std::random_device{}()) {}

  int Run();

 private:
  // One cycle; returns when the next should start.
  SteadyClock::time_point Step();
  SteadyClock::time_point AfterFailure(const Error& error, std::string_view what);
  void RecordOutcome(const CycleOutcome& outcome);
  void Reload();
  // Waits until `until`, pinging the watchdog; false when a stop signal came.
  bool WaitUntil(SteadyClock::time_point until);

  std::string config_path_;
  AttestdConfig config_;
  DaemonLog log_;
  ServiceNotifier notifier_;
  std::mt19937_64 random_;
  SystemClock clock_;
  std::unique_ptr<NodeAgent> agent_;
  std::unique_ptr<VerifierClient> verifier_;
  unsigned failures_ = 0;
  bool in_full_ = false;
  bool reload_requested_ = false;
  std::string last_summary_;
  AttestationStatus status_;
};

bool Daemon::WaitUntil(SteadyClock::time_point until) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  for (;;) {
    const SteadyClock::time_point now = SteadyClock::now();
    // Even with no time to wait, a stop or reload that came during the
    // step is taken now, not a step later.
    milliseconds wait =
        std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(until - now));
    if (notifier_.watchdog_period()) {
      notifier_.Watchdog();
      wait = std::min(wait, *notifier_.watchdog_period());
    }
    const timespec timeout{static_cast<time_t>(wait.count() / 1000),
                           static_cast<long>((wait.count() % 1000) * 1'000'000)};
    const int signal = sigtimedwait(&signals, nullptr, &timeout);
    if (signal == SIGTERM || signal == SIGINT) return false;
    if (signal == SIGHUP) {
      reload_requested_ = true;
      return true;
    }
    if (signal < 0 && SteadyClock::now() >= until) return true;
  }
}

void Daemon::Reload() {
  reload_requested_ = false;
  notifier_.Reloading();
  Result<AttestdConfig> loaded = LoadAttestdConfig(config_path_);
  if (!loaded.ok()) {
    log_.Write(Priority::kError,
               "reload: " + loaded.error().message + "; keeping the running configuration");
  } else {
    const bool same_state = loaded->state_dir == config_.state_dir;
    if (!same_state) {
      log_.Write(Priority::kWarning,
                 "reload: state_dir cannot change while running; keeping " + config_.state_dir);
      loaded->state_dir = config_.state_dir;
    }
    config_ = std::move(loaded).value();
    agent_.reset();  // reopened with the new TPM, key and measurement settings
    verifier_.reset();
    log_.Write(Priority::kNotice, "reloaded " + config_path_);
  }
  notifier_.Ready(status_.state.empty() ? "reloaded" : "reloaded; last state " + status_.state);
}

SteadyClock::time_point Daemon::AfterFailure(const Error& error, std::string_view what) {
  ++failures_;
  if (agent_) agent_->SuspectCertificate();
  const std::string message = std::string(what) + ": " + error.message;
  log_.Problem("cycle", message);
  status_.time = UnixNow();
  status_.state = "error";
  status_.problem = message;
  status_.reasons.clear();
  Status saved = SaveStatus(config_.state_dir, status_);
  if (!saved.ok()) log_.Problem("status", "cannot save status: " + saved.error().message);
  notifier_.Status("retrying: " + message);
  return SteadyClock::now() +
         BackoffDelay(failures_, config_.retry_min, config_.retry_max, random_);
}

void Daemon::RecordOutcome(const CycleOutcome& outcome) {
  std::string warnings;
  for (const std::string& warning : outcome.measurement_warnings) {
    warnings += (warnings.empty() ? "" : "; ") + warning;
  }
  if (warnings.empty()) {
    log_.Recovered("measurement", "runtime measurement and node key: no more warnings");
  } else {
    log_.Problem("measurement", "runtime measurement or node key: " + warnings);
  }
  const std::string summary = Summary(outcome);
  if (summary != last_summary_) {
    // A change of verdict is news; the same verdict every minute is not.
    constexpr std::size_t kReasonsLogged = 5;
    std::string line = "node " + agent_->identity()->node_id + " is " + outcome.state;
    for (std::size_t i = 0; i < outcome.reasons.size() && i < kReasonsLogged; ++i) {
      const ReasonSummary& reason = outcome.reasons[i];
      line += "; " + reason.code + (reason.detail.empty() ? "" : ": " + reason.detail);
    }
    if (outcome.reasons.size() > kReasonsLogged) {
      line += "; and " + std::to_string(outcome.reasons.size() - kReasonsLogged) + " more";
    }
    log_.Write(outcome.trusted ? Priority::kNotice : Priority::kWarning, line);
    last_summary_ = summary;
  }
  if (outcome.new_certificate) {
    log_.Write(Priority::kInfo, "installed certificate " + outcome.new_certificate->subject +
                                    " valid until " +
                                    FormatRfc3339UtcSeconds(outcome.new_certificate->not_after));
  }
  if (!outcome.certificate_error.empty() && outcome.trusted) {
    log_.Problem("certificate", "no certificate: " + outcome.certificate_error);
  } else if (outcome.new_certificate) {
    log_.Recovered("certificate", "a certificate was installed again");
  }
  status_.time = UnixNow();
  status_.state = outcome.state;
  // What status.json keeps of a long verdict (a big upgrade can give
  // thousands of RUNTIME_NOT_APPROVED): the first reasons, as the verifier
  // records them.
  constexpr std::size_t kReasonsKept = 20;
  status_.reasons.assign(outcome.reasons.begin(),
                         outcome.reasons.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                       outcome.reasons.size(), kReasonsKept)));
  status_.problem = outcome.certificate_error;
  status_.runtime_entries = outcome.runtime_entries;
  if (outcome.trusted) status_.last_trusted = status_.time;
  Result<std::optional<InstalledCertificate>> certificate =
      ReadInstalledCertificate(config_.certificate_dir);
  status_.certificate_not_after = certificate.ok() && *certificate ? (*certificate)->not_after : 0;
  Status saved = SaveStatus(config_.state_dir, status_);
  if (!saved.ok()) log_.Problem("status", "cannot save status: " + saved.error().message);
}

SteadyClock::time_point Daemon::Step() {
  if (!verifier_) {
    verifier_ = std::make_unique<VerifierClient>(config_);
    verifier_->SetBeforeRequest([this] {
      if (notifier_.watchdog_period()) notifier_.Watchdog();
    });
  }
  if (!agent_) {
    Result<std::unique_ptr<NodeAgent>> opened = NodeAgent::Open(config_, clock_);
    if (!opened.ok()) return AfterFailure(opened.error(), "TPM");
    agent_ = std::move(opened).value();
  }
  if (Status enrolled = agent_->EnsureEnrolled(*verifier_); !enrolled.ok()) {
    return AfterFailure(enrolled.error(), "enrollment");
  }
  Result<CycleOutcome> outcome = agent_->Attest(*verifier_, in_full_);
  if (!outcome.ok()) {
    if (agent_->node_unknown()) {
      // The verifier does not know this node: enroll again (same AK).
      Status forgotten = agent_->ForgetEnrollment();
      if (!forgotten.ok()) return AfterFailure(forgotten.error(), "state");
    }
    if (outcome.error().code == ErrorCode::kTpm) agent_.reset();  // reopen the TPM
    return AfterFailure(outcome.error(), "attestation");
  }
  failures_ = 0;
  log_.Recovered("cycle", "attestation works again (" + verifier_->url() + ")");
  RecordOutcome(*outcome);
  const bool resend = outcome->resend_in_full && !in_full_;
  in_full_ = outcome->resend_in_full;
  notifier_.Status(Summary(*outcome));
  if (resend) return SteadyClock::now();  // the verifier asked for the logs: at once, once
  SteadyClock::time_point next =
      SteadyClock::now() + NextInterval(config_.interval, config_.jitter, random_);
  // Renew on time even when the interval is longer than a third of the
  // certificate's lifetime.
  Result<std::optional<InstalledCertificate>> certificate =
      ReadInstalledCertificate(config_.certificate_dir);
  if (certificate.ok() && *certificate) {
    const std::int64_t renew_at = RenewalTime(**certificate);
    // Only a renewal still ahead brings the next cycle forward: once it is
    // due, every cycle asks anyway, and one that got no certificate must not
    // turn into a cycle a second.
    if (renew_at > UnixNow()) {
      next = std::min(next, SteadyClock::now() + seconds(renew_at - UnixNow() + 1));
    }
  }
  return next;
}

int Daemon::Run() {
  Result<FileDescriptor> lock = LockStateDirectory(config_.state_dir);
  if (!lock.ok()) {
    log_.Write(Priority::kError, lock.error().message);
    return 1;
  }
  const std::string verifiers = VerifierUrls(config_);
  log_.Write(Priority::kInfo, "attestd starting: TPM " + config_.tcti + ", verifier " + verifiers +
                                  ", state " + config_.state_dir);
  // Ready at once: a node that cannot reach its verifier (or enrolls
  // slowly) must still finish booting; STATUS says how the cycles go.
  notifier_.Ready("started; attesting to " + verifiers);
  for (;;) {
    if (reload_requested_) Reload();
    if (notifier_.watchdog_period()) notifier_.Watchdog();
    const SteadyClock::time_point next = Step();
    if (!WaitUntil(next)) break;
  }
  notifier_.Stopping();
  log_.Write(Priority::kInfo, "attestd stopping");
  return 0;
}

}  // namespace

milliseconds BackoffDelay(unsigned failures, seconds min, seconds max, std::mt19937_64& random) {
  const milliseconds floor = min;
  milliseconds ceiling = floor;
  for (unsigned i = 0; i < failures && ceiling < max; ++i) ceiling *= 2;
  ceiling = std::min<milliseconds>(ceiling, max);
  if (ceiling <= floor) return floor;
  std::uniform_int_distribution<std::int64_t> pick(floor.count(), ceiling.count());
  return milliseconds(pick(random));
}

milliseconds NextInterval(seconds interval, seconds jitter, std::mt19937_64& random) {
  if (jitter.count() == 0) return interval;
  std::uniform_int_distribution<std::int64_t> pick(0, milliseconds(jitter).count());
  return milliseconds(interval) + milliseconds(pick(random));
}

int RunDaemon(const std::string& config_path, std::ostream& log) {
  // Signals are taken synchronously (sigtimedwait) between steps: a step
  // in progress finishes (each is bounded by the request timeout) and the
  // daemon then stops or reloads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Result<AttestdConfig> config = LoadAttestdConfig(config_path);
  if (!config.ok()) {
    DaemonLog(log).Write(Priority::kError, config.error().message);
    return 2;
  }
  Daemon daemon(config_path, std::move(config).value(), log);
  return daemon.Run();
}

}  // namespace attest::attestd
