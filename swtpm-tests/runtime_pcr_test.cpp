// Runtime measurements into a real PCR: the log replays to what the TPM
// holds across daemon restarts, a changed file is a new entry, a crash
// between saving and extending is repaired through the pending-extend
// marker, and anything else is reported.
#include "attest/attestd/runtime_pcr.h"

#include <fstream>

#include "attest/attestd/runtime_pending.h"
#include "attest/attestd/tpm_measurement_pcr.h"
#include "attest/encoding.h"
#include "attest/file.h"

#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::CheckRuntimePcrChoice;
using attestd::PendingExtendPath;
using attestd::RuntimeLogCheck;
using attestd::RuntimeMeasurements;
using attestd::RuntimeMeasurer;
using attestd::RuntimeMeasurerOptions;
using attestd::RuntimePcrOptions;
using attestd::SavePendingExtend;
using attestd::StartRuntimeMeasurements;
using runtime::LoadRuntimeLog;
using runtime::Replay;
using runtime::RuntimeEntry;
using runtime::RuntimeExtendDigest;
using runtime::SaveRuntimeLog;

class RuntimePcrTest : public TpmTest {
 protected:
  void SetUp() override {
    TpmTest::SetUp();
    if (HasFatalFailure()) return;
    WriteRuntimeFiles(runtime_);
    options_.log_path = run_dir_.File("runtime-log.json");
  }

  // A new RuntimeMeasurements on a new TPM connection: a restarted attestd.
  // The previous one must be gone first: its PCR session lives on the old
  // connection.
  std::unique_ptr<RuntimeMeasurements> StartDaemon() {
    Reopen();
    auto started = StartRuntimeMeasurements(
        tpm(), {runtime_.File("runc"), runtime_.File("container*"), runtime_.File("config.toml")},
        clock_, options_);
    EXPECT_TRUE(started.ok()) << started.error().ToString();
    return started.ok() ? std::move(started).value() : nullptr;
  }

  Bytes Pcr(std::uint16_t bank, std::uint32_t index) {
    tpm::PcrSelection selection{{{bank, {index}}}};
    auto values = tpm().ReadPcrs(selection);
    EXPECT_TRUE(values.ok());
    return values.ok() ? values->at(bank).at(index) : Bytes();
  }

  static Bytes ToVector(const Sha256Digest& digest) { return {digest.begin(), digest.end()}; }

  TempDir runtime_{"runtime"};
  TempDir run_dir_{"run"};
  FakeClock clock_;
  RuntimePcrOptions options_;
};

TEST_F(RuntimePcrTest, LogReplaysToThePcrAcrossRestartsAndChanges) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kConsistent);
  auto first = daemon->MeasureAndExtend();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->extended.size(), 3u);
  EXPECT_EQ(Pcr(TPM2_ALG_SHA256, 15), ToVector(Replay(daemon->log().entries)));
  // The sha1 bank carries the same events, hashed with SHA-1.
  EXPECT_NE(Pcr(TPM2_ALG_SHA1, 15), Bytes(20, 0));

  daemon.reset();
  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kConsistent);
  EXPECT_EQ(daemon->start_check().entries, 3u);
  auto unchanged = daemon->MeasureAndExtend();
  ASSERT_TRUE(unchanged.ok());
  EXPECT_TRUE(unchanged->extended.empty());

  WriteText(runtime_.File("runc"), "runc binary v2");
  auto changed = daemon->MeasureAndExtend();
  ASSERT_TRUE(changed.ok()) << changed.error().ToString();
  ASSERT_EQ(changed->extended.size(), 1u);
  EXPECT_EQ(changed->extended[0].path, runtime_.File("runc"));
  EXPECT_EQ(daemon->log().entries.size(), 4u);
  EXPECT_EQ(Pcr(TPM2_ALG_SHA256, 15), ToVector(Replay(daemon->log().entries)));
  // The extend session lives as long as the measurements, and no longer.
  EXPECT_NE(LoadedSessions(), "");
  daemon.reset();
  EXPECT_EQ(LoadedSessions(), "");
  EXPECT_EQ(TransientHandles(), "");
}

TEST_F(RuntimePcrTest, AnEntrySavedButNotExtendedIsFinishedAtStart) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  const Bytes before = Pcr(TPM2_ALG_SHA256, 15);

  // The crash window: a measurer saves a new entry, and nothing extends it.
  WriteText(runtime_.File("containerd"), "containerd binary, patched");
  auto log = LoadRuntimeLog(options_.log_path);
  ASSERT_TRUE(log.ok());
  RuntimeMeasurerOptions measurer_options;
  measurer_options.log_path = options_.log_path;
  auto measurer =
      RuntimeMeasurer::Create({runtime_.File("containerd")}, clock_, *log, measurer_options);
  ASSERT_TRUE(measurer.ok());
  auto measured = measurer->Measure();
  ASSERT_TRUE(measured.ok());
  ASSERT_EQ(measured->new_entries.size(), 1u);
  ASSERT_TRUE(measurer->Append(measured->new_entries[0]).ok());
  ASSERT_EQ(Pcr(TPM2_ALG_SHA256, 15), before);

  ASSERT_TRUE(PathExists(PendingExtendPath(options_.log_path)));

  daemon.reset();
  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kRecovered);
  EXPECT_NE(daemon->start_check().detail.find("containerd"), std::string::npos);
  EXPECT_EQ(Pcr(TPM2_ALG_SHA256, 15), ToVector(Replay(daemon->log().entries)));
  EXPECT_FALSE(PathExists(PendingExtendPath(options_.log_path)));
  EXPECT_FALSE(daemon->extend_pending());
}

// Regression (issue 10, item 14): start used to guess that a log one entry
// ahead of the PCR was a crash between save and extend. Without the
// pending-extend marker that attestd writes before every save, it is not.
TEST_F(RuntimePcrTest, ALogOneEntryAheadWithoutItsPendingMarkerIsAMismatch) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  daemon.reset();
  auto log = LoadRuntimeLog(options_.log_path);
  ASSERT_TRUE(log.ok());
  RuntimeEntry added = log->entries.back();
  added.path = runtime_.File("added-by-someone");
  log->entries.push_back(added);
  ASSERT_TRUE(SaveRuntimeLog(options_.log_path, *log).ok());
  const Bytes before = Pcr(TPM2_ALG_SHA256, 15);

  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kMismatch);
  EXPECT_EQ(Pcr(TPM2_ALG_SHA256, 15), before) << "nothing may be extended on a guess";
}

// The crash came after the extend but before the marker was removed.
TEST_F(RuntimePcrTest, APendingMarkerForAnEntryThePcrHoldsIsOnlyRemoved) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  const std::vector<RuntimeEntry> entries = daemon->log().entries;
  daemon.reset();
  ASSERT_TRUE(SavePendingExtend(PendingExtendPath(options_.log_path),
                                {entries.size(), RuntimeExtendDigest(entries.back())})
                  .ok());
  const Bytes before = Pcr(TPM2_ALG_SHA256, 15);

  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kConsistent);
  EXPECT_EQ(Pcr(TPM2_ALG_SHA256, 15), before) << "extended twice";
  EXPECT_FALSE(PathExists(PendingExtendPath(options_.log_path)));
}

TEST_F(RuntimePcrTest, APendingMarkerThatDoesNotNameTheLastEntryIsRefused) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  const std::vector<RuntimeEntry> entries = daemon->log().entries;
  daemon.reset();
  ASSERT_TRUE(SavePendingExtend(PendingExtendPath(options_.log_path),
                                {entries.size() - 1, RuntimeExtendDigest(entries.back())})
                  .ok());
  Reopen();
  auto started = StartRuntimeMeasurements(tpm(), {runtime_.File("runc")}, clock_, options_);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(started.error().message.find(".pending: names seq 2"), std::string::npos)
      << started.error().message;
}

TEST_F(RuntimePcrTest, AForeignExtendIsReportedNotPaperedOver) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  ASSERT_TRUE(tpm().ExtendPcr(15, {{TPM2_ALG_SHA256, Bytes(32, 0xee)}}).ok());
  daemon.reset();
  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  const RuntimeLogCheck& check = daemon->start_check();
  EXPECT_EQ(check.state, RuntimeLogCheck::State::kMismatch);
  EXPECT_EQ(check.pcr_value, Pcr(TPM2_ALG_SHA256, 15));
  EXPECT_NE(check.pcr_value, ToVector(check.replayed));
  EXPECT_NE(check.detail.find(HexEncode(check.pcr_value)), std::string::npos) << check.detail;
}

TEST_F(RuntimePcrTest, AStaleLogAfterARebootIsAMismatch) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  daemon.reset();
  ASSERT_TRUE(swtpm().Restart().ok());  // PCR 15 is zero again; /run should have been cleared
  daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kMismatch);
  EXPECT_EQ(daemon->start_check().pcr_value, Bytes(32, 0));
}

TEST_F(RuntimePcrTest, ResettablePcrsAreRefusedUnlessForced) {
  options_.pcr = 16;
  Reopen();
  auto refused = StartRuntimeMeasurements(tpm(), {runtime_.File("runc")}, clock_, options_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("reset"), std::string::npos);

  auto warning = CheckRuntimePcrChoice(23, true);
  ASSERT_TRUE(warning.ok());
  ASSERT_TRUE(warning->has_value());
  EXPECT_NE((*warning)->find("reset"), std::string::npos);
  EXPECT_FALSE(CheckRuntimePcrChoice(15, false)->has_value());
  EXPECT_FALSE(CheckRuntimePcrChoice(24, true).ok());

  options_.allow_resettable_pcr = true;
  auto forced = StartRuntimeMeasurements(tpm(), {runtime_.File("runc")}, clock_, options_);
  ASSERT_TRUE(forced.ok()) << forced.error().ToString();
  ASSERT_TRUE((*forced)->MeasureAndExtend().ok());
  EXPECT_EQ(Pcr(TPM2_ALG_SHA256, 16), ToVector(Replay((*forced)->log().entries)));
}

// Regression (issue 10, item 12): PCRs 17-22 were accepted, but they start
// from all ones, which no runtime log replays to, and locality 0 cannot
// extend them. Refused even when resettable PCRs are allowed.
TEST_F(RuntimePcrTest, DrtmPcrs17To22AreRefusedEvenWhenForced) {
  const Bytes pcr17 = Pcr(TPM2_ALG_SHA256, 17);
  EXPECT_EQ(pcr17, Bytes(32, 0xff)) << "swtpm's reset value, the premise of the refusal";
  for (std::uint32_t pcr = 17; pcr <= 22; ++pcr) {
    auto choice = CheckRuntimePcrChoice(pcr, true);
    ASSERT_FALSE(choice.ok()) << pcr;
    EXPECT_EQ(choice.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(choice.error().message.find("all ones"), std::string::npos) << choice.error().message;
  }
  options_.pcr = 17;
  options_.allow_resettable_pcr = true;
  auto refused = StartRuntimeMeasurements(tpm(), {runtime_.File("runc")}, clock_, options_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(CheckRuntimePcrChoice(14, false).ok());
  EXPECT_TRUE(CheckRuntimePcrChoice(23, true).ok());
}

}  // namespace
}  // namespace attest::test
