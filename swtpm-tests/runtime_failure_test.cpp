// Runtime measurements when something fails (issue 10, items 13 and 14):
// the runtime log cannot be saved (the size cap, a directory that went
// away, a full /run), or an extend fails. Each case ends with the PCR and
// the log attestd holds agreeing, and with the verifier seeing the event;
// while they cannot agree, the verifier refuses the node (no stale log
// that replays). Saves fail for real; extend failures come from the
// fault-injecting wrapper around the real PCR (fault_injecting_pcr.h says
// why that one fake exists).
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <set>
#include <system_error>

#include <sys/mount.h>

#include "attest/attestd/runtime_pcr.h"
#include "attest/attestd/runtime_pending.h"
#include "attest/attestd/tpm_measurement_pcr.h"
#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/testdata.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/reasons.h"
#include "attest/verifier/verify.h"

#include "fault_injecting_pcr.h"
#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::AkAlgorithm;
using attestd::KeyBlob;
using attestd::LoadPendingExtend;
using attestd::PendingExtendPath;
using attestd::RuntimeLogCheck;
using attestd::RuntimeMeasurements;
using attestd::RuntimePcrOptions;
using attestd::TpmMeasurementPcr;
using runtime::kSaveFailedMarkerPath;
using runtime::LoadRuntimeLog;
using runtime::Replay;
using runtime::RuntimeEntry;
using runtime::RuntimeKind;
using runtime::RuntimeLog;
using runtime::SerializeRuntimeLog;
using verifier::Reason;
using verifier::Verdict;
using Fault = FaultInjectingPcr::Fault;

constexpr std::uint32_t kRuntimePcr = 15;

class RuntimeFailureTest : public TpmTest {
 protected:
  void SetUp() override {
    TpmTest::SetUp();
    if (HasFatalFailure()) return;
    WriteRuntimeFiles(runtime_);
    run_directory_ = run_.File("attestd");
    ASSERT_TRUE(std::filesystem::create_directory(run_directory_));
    options_.log_path = run_directory_ + "/runtime-log.json";
    auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
    ASSERT_TRUE(ak.ok()) << ak.error().ToString();
    ak_ = *ak;
    auto real = TpmMeasurementPcr::Create(tpm(), kRuntimePcr);
    ASSERT_TRUE(real.ok()) << real.error().ToString();
    real_pcr_ = std::move(real).value();
    faulty_pcr_ = std::make_unique<FaultInjectingPcr>(*real_pcr_);
  }

  std::vector<std::string> Patterns() const {
    return {runtime_.File("runc"), runtime_.File("containerd"), runtime_.File("config.toml")};
  }

  // A (re)started attestd on the fault-injecting PCR.
  std::unique_ptr<RuntimeMeasurements> StartDaemon() {
    auto started = RuntimeMeasurements::Start(*faulty_pcr_, Patterns(), clock_, options_);
    EXPECT_TRUE(started.ok()) << started.error().ToString();
    return started.ok() ? std::move(started).value() : nullptr;
  }

  Sha256Digest PcrValue() {
    auto value = real_pcr_->ReadSha256();
    EXPECT_TRUE(value.ok()) << value.error().ToString();
    return value.ok() ? *value : Sha256Digest{};
  }

  RuntimeLog SavedLog() const {
    auto log = LoadRuntimeLog(options_.log_path);
    EXPECT_TRUE(log.ok()) << log.error().ToString();
    return log.ok() ? *log : RuntimeLog{};
  }

  // Every file digest the log shows, so that only what a test is about can
  // make the verdict untrusted.
  static std::set<Sha256Digest> FilesOf(const RuntimeLog& log) {
    std::set<Sha256Digest> digests;
    for (const RuntimeEntry& entry : log.entries) {
      if (entry.kind == RuntimeKind::kFile) digests.insert(entry.sha256);
    }
    return digests;
  }

  // The verifier's verdict on a fresh quote of the runtime PCR with `log`
  // as the evidence's runtime log.
  Verdict Verify(const RuntimeLog& log, const std::set<Sha256Digest>& approved) {
    const Bytes nonce(32, 0x6e);
    auto selection = tpm::ParsePcrSelection("sha256:15");
    EXPECT_TRUE(selection.ok());
    auto quote = tpm().MakeQuote(ak_, nonce, *selection);
    EXPECT_TRUE(quote.ok()) << quote.error().ToString();
    if (!quote.ok()) return {};
    verifier::Evidence evidence;
    evidence.nonce = nonce;
    evidence.attest = quote->attest;
    evidence.signature = quote->signature;
    evidence.pcrs = quote->pcrs;
    evidence.boot_log =
        ToBytes(ReadText(testdata::FixturePath("eventlogs/ovmf-sb-on.bin")));  // nothing in PCR 15
    evidence.runtime_log = log;
    verifier::Policy policy;
    policy.selection = *selection;
    policy.runtime.pcr = kRuntimePcr;
    policy.runtime.allowed_digests = approved;
    auto key = verifier::ParseAttestationKey(ak_.public_area);
    EXPECT_TRUE(key.ok()) << key.error().ToString();
    if (!key.ok()) return {};
    return verifier::VerifyEvidence(
        verifier::VerificationInput{evidence, *key, policy, nonce, std::nullopt});
  }

  static std::string Describe(const Verdict& verdict) {
    std::string text = verdict.trusted ? "trusted" : "untrusted";
    for (const Reason& reason : verdict.reasons) {
      text += "\n  " + std::string(verifier::ReasonCodeName(reason.code)) + " " + reason.path +
              ": " + reason.detail;
    }
    return text;
  }

  // The reasons as "CODE path", in verdict order.
  static std::vector<std::string> Reasons(const Verdict& verdict) {
    std::vector<std::string> reasons;
    for (const Reason& reason : verdict.reasons) {
      reasons.push_back(std::string(verifier::ReasonCodeName(reason.code)) +
                        (reason.path.empty() ? "" : " " + reason.path));
    }
    return reasons;
  }

  const std::string kMarkerReason = "RUNTIME_NOT_APPROVED " + std::string(kSaveFailedMarkerPath);

  TempDir runtime_{"runtime"};
  TempDir run_{"run"};
  std::string run_directory_;
  FakeClock clock_;
  RuntimePcrOptions options_;
  KeyBlob ak_;
  std::unique_ptr<TpmMeasurementPcr> real_pcr_;
  std::unique_ptr<FaultInjectingPcr> faulty_pcr_;
};

// --- the log cannot be saved (item 13) ---------------------------------

// Regression (issue 10, item 13): a save that failed left the new runc
// neither logged nor extended, and the stale log still verified.
TEST_F(RuntimeFailureTest, ASaveOverTheSizeCapExtendsAMarkerTheVerifierRefuses) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  const RuntimeLog good = daemon->log();
  ASSERT_EQ(good.entries.size(), 3u);
  const Verdict control = Verify(good, FilesOf(good));
  EXPECT_TRUE(control.trusted) << Describe(control);

  // The next attestd may keep what it has but nothing more.
  options_.max_log_bytes = SerializeRuntimeLog(good)->size() + 16;
  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  WriteText(runtime_.File("runc"), "runc binary v2, unapproved");
  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_TRUE(update->log_save_error.has_value());
  EXPECT_NE(update->log_save_error->message.find("more than the limit"), std::string::npos)
      << update->log_save_error->message;
  ASSERT_EQ(update->extended.size(), 1u);
  EXPECT_EQ(update->extended[0].kind, RuntimeKind::kSaveFailed);
  EXPECT_NE(update->extended[0].detail.find(runtime_.File("runc")), std::string::npos)
      << update->extended[0].detail;

  // attestd's log and the PCR agree; the verifier explains the refusal.
  ASSERT_EQ(daemon->log().entries.size(), 4u);
  EXPECT_EQ(daemon->log().entries.back().kind, RuntimeKind::kSaveFailed);
  EXPECT_EQ(PcrValue(), Replay(daemon->log().entries));
  Verdict verdict = Verify(daemon->log(), FilesOf(good));
  EXPECT_FALSE(verdict.trusted);
  EXPECT_EQ(Reasons(verdict), std::vector<std::string>{kMarkerReason}) << Describe(verdict);
  // The stale file no longer replays: whoever sends it is refused too.
  EXPECT_EQ(SavedLog(), good);
  Verdict stale = Verify(SavedLog(), FilesOf(good));
  EXPECT_EQ(Reasons(stale), std::vector<std::string>{"RUNTIME_LOG_REPLAY_MISMATCH"})
      << Describe(stale);

  // Still failing: no second marker, nothing else extended.
  const Sha256Digest after_marker = PcrValue();
  auto again = daemon->MeasureAndExtend();
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(again->log_save_error.has_value());
  EXPECT_TRUE(again->extended.empty());
  EXPECT_EQ(PcrValue(), after_marker);

  // A restart in that state puts the marker back from the PCR's word.
  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kRecovered)
      << daemon->start_check().detail;
  EXPECT_NE(daemon->start_check().detail.find("still cannot be saved"), std::string::npos)
      << daemon->start_check().detail;
  ASSERT_EQ(daemon->log().entries.size(), 4u);
  EXPECT_EQ(daemon->log().entries.back().kind, RuntimeKind::kSaveFailed);
  EXPECT_EQ(PcrValue(), Replay(daemon->log().entries));
  verdict = Verify(daemon->log(), FilesOf(good));
  EXPECT_EQ(Reasons(verdict), std::vector<std::string>{kMarkerReason}) << Describe(verdict);
}

// The log directory disappears and comes back: the marker covers the gap,
// and the measurement that could not be logged is logged and extended
// after it, where the verifier sees it.
TEST_F(RuntimeFailureTest, AMeasurementThatCouldNotBeLoggedFollowsTheMarkerOnceTheLogSaves) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  const RuntimeLog good = daemon->log();

  const std::string moved = run_directory_ + ".moved";
  ASSERT_EQ(std::rename(run_directory_.c_str(), moved.c_str()), 0);
  WriteText(runtime_.File("runc"), "runc binary v2, unapproved");
  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_TRUE(update->log_save_error.has_value());
  EXPECT_EQ(update->log_save_error->code, ErrorCode::kNotFound)
      << update->log_save_error->ToString();
  EXPECT_EQ(PcrValue(), Replay(daemon->log().entries));
  ASSERT_EQ(std::rename(moved.c_str(), run_directory_.c_str()), 0);

  update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  EXPECT_FALSE(update->log_save_error.has_value()) << update->log_save_error->ToString();
  ASSERT_EQ(update->extended.size(), 1u);
  EXPECT_EQ(update->extended[0].path, runtime_.File("runc"));

  const RuntimeLog saved = SavedLog();
  EXPECT_EQ(saved, daemon->log());
  ASSERT_EQ(saved.entries.size(), 5u);
  EXPECT_EQ(saved.entries[3].kind, RuntimeKind::kSaveFailed);
  EXPECT_EQ(saved.entries[4].path, runtime_.File("runc"));
  EXPECT_EQ(PcrValue(), Replay(saved.entries));
  EXPECT_FALSE(PathExists(PendingExtendPath(options_.log_path)));

  // The verifier sees the new runc (not approved) as well as the marker.
  Verdict verdict = Verify(saved, FilesOf(good));
  EXPECT_EQ(Reasons(verdict), (std::vector<std::string>{
                                  kMarkerReason, "RUNTIME_NOT_APPROVED " + runtime_.File("runc")}))
      << Describe(verdict);
  EXPECT_NE(verdict.reasons[1].detail.find(HexEncode(AsBytes(saved.entries[4].sha256))),
            std::string::npos)
      << verdict.reasons[1].detail;
}

// A full /run, for real: a tiny tmpfs filled to the last page. Needs
// CAP_SYS_ADMIN for mount(2); the portable cases above cover the logic.
TEST_F(RuntimeFailureTest, AFullRunFileSystemIsMarkedAndCaughtUp) {
  const std::string mount_point = run_.File("tmpfs");
  ASSERT_TRUE(std::filesystem::create_directory(mount_point));
  if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=64k,mode=0755") != 0) {
    GTEST_SKIP() << "mount(tmpfs) refused (" << std::error_code(errno, std::generic_category())
                 << "); this case needs CAP_SYS_ADMIN";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mount_point};
  options_.log_path = mount_point + "/runtime-log.json";
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  const RuntimeLog good = daemon->log();

  // Fill every page; the next save needs a new file and a page for it.
  {
    std::FILE* filler = std::fopen((mount_point + "/filler").c_str(), "w");
    ASSERT_NE(filler, nullptr);
    const std::string block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), filler) == block.size() &&
           std::fflush(filler) == 0) {
    }
    (void)std::fclose(filler);  // full on purpose: the last flush failed
  }
  WriteText(runtime_.File("containerd"), "containerd binary, patched");
  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_TRUE(update->log_save_error.has_value());
  // The wording is the file layer's ("write failed (disk full?)" today).
  EXPECT_NE(update->log_save_error->message.find(mount_point), std::string::npos)
      << update->log_save_error->message;
  EXPECT_EQ(PcrValue(), Replay(daemon->log().entries));
  EXPECT_EQ(Reasons(Verify(daemon->log(), FilesOf(good))), std::vector<std::string>{kMarkerReason});

  ASSERT_EQ(std::remove((mount_point + "/filler").c_str()), 0);
  update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  EXPECT_FALSE(update->log_save_error.has_value());
  const RuntimeLog saved = SavedLog();
  EXPECT_EQ(saved, daemon->log());
  ASSERT_EQ(saved.entries.size(), 5u);
  EXPECT_EQ(saved.entries[4].path, runtime_.File("containerd"));
  EXPECT_EQ(PcrValue(), Replay(saved.entries));
}

// --- an extend fails (item 14) ------------------------------------------

// Regression (issue 10, item 14): the entry was already in the log, so no
// later pass extended it and the PCR chain had a gap until reboot.
TEST_F(RuntimeFailureTest, AFailedExtendIsFinishedBeforeAnythingNewIsLogged) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  faulty_pcr_->FailNextExtends(Fault::kLostRequest);
  auto failed = daemon->MeasureAndExtend();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("stays pending"), std::string::npos)
      << failed.error().message;
  // The first entry (config.toml, in path order) is logged, not extended.
  ASSERT_EQ(daemon->log().entries.size(), 1u);
  EXPECT_TRUE(daemon->extend_pending());
  EXPECT_EQ(SavedLog(), daemon->log());
  EXPECT_EQ(PcrValue(), Sha256Digest{});
  auto pending = LoadPendingExtend(PendingExtendPath(options_.log_path));
  ASSERT_TRUE(pending.ok() && pending->has_value());
  EXPECT_EQ((*pending)->seq, 1u);
  // Meanwhile the log does not replay: the verifier refuses, never trusts.
  Verdict meanwhile = Verify(daemon->log(), FilesOf(daemon->log()));
  EXPECT_EQ(Reasons(meanwhile), std::vector<std::string>{"RUNTIME_LOG_REPLAY_MISMATCH"})
      << Describe(meanwhile);

  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_EQ(update->extended.size(), 3u);
  EXPECT_EQ(update->extended[0].path, runtime_.File("config.toml"));
  const RuntimeLog saved = SavedLog();
  EXPECT_EQ(saved, daemon->log());
  EXPECT_EQ(PcrValue(), Replay(saved.entries));
  EXPECT_FALSE(PathExists(PendingExtendPath(options_.log_path)));
  EXPECT_EQ(faulty_pcr_->extends_attempted(), 4);
  Verdict verdict = Verify(saved, FilesOf(saved));
  EXPECT_TRUE(verdict.trusted) << Describe(verdict);
}

// The TPM extended but the answer never came back: retrying blindly would
// put the entry into the PCR twice.
TEST_F(RuntimeFailureTest, AnExtendWhoseResponseWasLostIsNotRepeated) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  faulty_pcr_->FailNextExtends(Fault::kLostResponse);
  ASSERT_FALSE(daemon->MeasureAndExtend().ok());
  EXPECT_EQ(PcrValue(), Replay(daemon->log().entries)) << "the TPM did extend";

  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  EXPECT_EQ(update->extended.size(), 2u);  // the other two files; not the first again
  EXPECT_EQ(faulty_pcr_->extends_attempted(), 3);
  EXPECT_EQ(PcrValue(), Replay(SavedLog().entries));
  EXPECT_FALSE(daemon->extend_pending());
  EXPECT_TRUE(Verify(daemon->log(), FilesOf(daemon->log())).trusted);
}

TEST_F(RuntimeFailureTest, WhileAnExtendKeepsFailingNothingNewIsLogged) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  faulty_pcr_->FailNextExtends(Fault::kLostRequest, 3);
  for (int pass = 0; pass < 3; ++pass) {
    WriteText(runtime_.File("runc"), "runc binary v" + std::to_string(pass + 2));
    ASSERT_FALSE(daemon->MeasureAndExtend().ok()) << pass;
    EXPECT_EQ(daemon->log().entries.size(), 1u) << pass;
    EXPECT_EQ(SavedLog().entries.size(), 1u) << pass;
  }
  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  EXPECT_EQ(daemon->log().entries.size(), 3u);
  EXPECT_EQ(PcrValue(), Replay(SavedLog().entries));
  EXPECT_TRUE(Verify(daemon->log(), FilesOf(daemon->log())).trusted);
}

TEST_F(RuntimeFailureTest, AnExtendLeftPendingByAFailureIsFinishedAtRestart) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  faulty_pcr_->FailNextExtends(Fault::kLostRequest);
  ASSERT_FALSE(daemon->MeasureAndExtend().ok());
  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kRecovered)
      << daemon->start_check().detail;
  EXPECT_EQ(PcrValue(), Replay(daemon->log().entries));
  EXPECT_FALSE(daemon->extend_pending());
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  EXPECT_EQ(PcrValue(), Replay(SavedLog().entries));
  EXPECT_EQ(SavedLog().entries.size(), 3u);
}

// Both at once: the log cannot be saved and the marker's extend fails.
// The log attestd sends then holds a marker the PCR lacks, so it does not
// replay (refused); the next pass extends the marker and they agree.
TEST_F(RuntimeFailureTest, AMarkerWhoseExtendFailsIsFinishedOnTheNextPass) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  const RuntimeLog good = daemon->log();
  options_.max_log_bytes = SerializeRuntimeLog(good)->size() + 16;
  daemon = StartDaemon();
  ASSERT_TRUE(daemon);

  WriteText(runtime_.File("runc"), "runc binary v2");
  faulty_pcr_->FailNextExtends(Fault::kLostRequest);
  auto failed = daemon->MeasureAndExtend();
  ASSERT_FALSE(failed.ok());
  ASSERT_EQ(daemon->log().entries.size(), 4u);
  EXPECT_EQ(daemon->log().entries.back().kind, RuntimeKind::kSaveFailed);
  EXPECT_TRUE(daemon->extend_pending());
  EXPECT_EQ(Reasons(Verify(daemon->log(), FilesOf(good))),
            (std::vector<std::string>{"RUNTIME_LOG_REPLAY_MISMATCH", kMarkerReason}));

  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  EXPECT_EQ(PcrValue(), Replay(daemon->log().entries));
  EXPECT_EQ(daemon->log().entries.size(), 4u);
  EXPECT_EQ(Reasons(Verify(daemon->log(), FilesOf(good))), std::vector<std::string>{kMarkerReason});
}

}  // namespace
}  // namespace attest::test
