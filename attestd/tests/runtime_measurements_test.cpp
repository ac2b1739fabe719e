// RuntimeMeasurements' save-then-extend order under faults, without a TPM:
// the runtime PCR is the fault-injecting one over a sha256 bank in memory
// (fault_injecting_pcr.h says why a fake is right here, and only here); the
// log and its pending-extend marker are real files. swtpm-tests/ runs the
// same paths against a real TPM.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/attestd/runtime_pcr.h"
#include "attest/attestd/runtime_pending.h"
#include "attest/file.h"
#include "attest/runtime/log.h"
#include "attest/testing/test_support.h"

#include "fault_injecting_pcr.h"

namespace attest::attestd {
namespace {

using runtime::LoadRuntimeLog;
using runtime::Replay;
using runtime::RuntimeKind;
using runtime::RuntimeLog;
using test::FakeClock;
using test::FaultInjectingPcr;
using test::TempDir;
using test::WriteText;
using Fault = FaultInjectingPcr::Fault;

constexpr std::uint32_t kRuntimePcr = 15;

class RuntimeMeasurementsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(files_.File("runc"), "runc binary");
    WriteText(files_.File("containerd"), "containerd binary");
    options_.log_path = run_.File("runtime-log.json");
  }

  // A (re)started attestd on the PCR: what a daemon finds at start.
  std::unique_ptr<RuntimeMeasurements> Start() {
    auto started = RuntimeMeasurements::Start(
        pcr_, {files_.File("containerd"), files_.File("runc")}, clock_, options_);
    EXPECT_TRUE(started.ok()) << started.error().ToString();
    return started.ok() ? std::move(started).value() : nullptr;
  }

  Sha256Digest PcrValue() { return *pcr_.ReadSha256(); }

  RuntimeLog SavedLog() const {
    auto log = LoadRuntimeLog(options_.log_path);
    EXPECT_TRUE(log.ok()) << log.error().ToString();
    return log.ok() ? *log : RuntimeLog{};
  }

  bool PendingMarkerExists() const { return PathExists(PendingExtendPath(options_.log_path)); }

  TempDir files_{"runtime_files"};
  TempDir run_{"run"};
  FakeClock clock_;
  RuntimePcrOptions options_;
  FaultInjectingPcr pcr_{kRuntimePcr, Sha256Digest{}};
};

// attestd is killed (SIGKILL) after it saved an entry and its pending-extend
// marker and before the extend reached the PCR. The next start finishes that
// extend, exactly once, and the log replays to the PCR.
TEST_F(RuntimeMeasurementsTest, AKillBetweenSaveAndExtendIsFinishedOnceAtTheNextStart) {
  const pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    // The daemon: its first extend kills it. Nothing here may return.
    pcr_.FailNextExtends(Fault::kKillProcess);
    auto started = RuntimeMeasurements::Start(
        pcr_, {files_.File("containerd"), files_.File("runc")}, clock_, options_);
    if (started.ok()) (void)(*started)->MeasureAndExtend();
    ::_exit(0);  // not reached when the fault fires
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

  // What the killed daemon left: the first entry (containerd, in path
  // order) saved with its marker; the PCR (this process's copy is the
  // TPM's, which the child never reached) untouched.
  const RuntimeLog left = SavedLog();
  ASSERT_EQ(left.entries.size(), 1u);
  EXPECT_EQ(left.entries[0].path, files_.File("containerd"));
  ASSERT_TRUE(PendingMarkerExists());
  EXPECT_EQ(PcrValue(), Sha256Digest{});
  EXPECT_EQ(pcr_.extends_done(), 0);

  auto daemon = Start();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kRecovered);
  EXPECT_NE(daemon->start_check().detail.find("containerd"), std::string::npos)
      << daemon->start_check().detail;
  EXPECT_EQ(pcr_.extends_done(), 1);
  EXPECT_EQ(PcrValue(), Replay(left.entries));
  EXPECT_FALSE(PendingMarkerExists());
  EXPECT_FALSE(daemon->extend_pending());

  // The next pass logs and extends only runc: containerd is not extended twice.
  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_EQ(update->extended.size(), 1u);
  EXPECT_EQ(update->extended[0].path, files_.File("runc"));
  EXPECT_EQ(pcr_.extends_done(), 2);
  EXPECT_EQ(PcrValue(), Replay(SavedLog().entries));

  // And a second restart finds nothing to finish.
  daemon = Start();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kConsistent);
  EXPECT_EQ(pcr_.extends_done(), 2);
}

// The entry is saved, the extend fails: the entry stays pending, nothing new
// is logged, and the next pass extends it before anything else.
TEST_F(RuntimeMeasurementsTest, AnExtendThatFailsAfterTheSaveIsFinishedByTheNextPass) {
  auto daemon = Start();
  ASSERT_TRUE(daemon);
  pcr_.FailNextExtends(Fault::kLostRequest);
  auto failed = daemon->MeasureAndExtend();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kTpm);
  EXPECT_NE(failed.error().message.find("stays pending"), std::string::npos)
      << failed.error().message;
  ASSERT_EQ(SavedLog().entries.size(), 1u);
  EXPECT_TRUE(daemon->extend_pending());
  EXPECT_TRUE(PendingMarkerExists());
  EXPECT_EQ(PcrValue(), Sha256Digest{});

  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_EQ(update->extended.size(), 2u);
  EXPECT_EQ(update->extended[0].path, files_.File("containerd"));
  EXPECT_EQ(pcr_.extends_attempted(), 3);
  EXPECT_EQ(pcr_.extends_done(), 2);
  EXPECT_EQ(PcrValue(), Replay(SavedLog().entries));
  EXPECT_FALSE(PendingMarkerExists());
}

// The extend reached the PCR but its response was lost: the next pass sees
// the PCR already holds the entry and does not extend it again.
TEST_F(RuntimeMeasurementsTest, AnExtendWhoseResponseWasLostIsNotRepeated) {
  auto daemon = Start();
  ASSERT_TRUE(daemon);
  pcr_.FailNextExtends(Fault::kLostResponse);
  ASSERT_FALSE(daemon->MeasureAndExtend().ok());
  EXPECT_EQ(PcrValue(), Replay(SavedLog().entries)) << "the PCR did extend";

  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_EQ(update->extended.size(), 1u);
  EXPECT_EQ(update->extended[0].path, files_.File("runc"));
  EXPECT_EQ(pcr_.extends_done(), 2);
  EXPECT_EQ(PcrValue(), Replay(SavedLog().entries));
}

// The log cannot be saved (it would pass its size cap): the measurement is
// not extended; a save-failed marker is, in its place, so the PCR says a
// measurement went unlogged. The file stays as it was; the log in memory
// carries the marker and replays to the PCR.
TEST_F(RuntimeMeasurementsTest, ASaveThatFailsExtendsASaveFailedMarkerInstead) {
  auto daemon = Start();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->MeasureAndExtend().ok());
  const RuntimeLog before = SavedLog();
  ASSERT_EQ(before.entries.size(), 2u);
  auto text = runtime::SerializeRuntimeLog(before);
  ASSERT_TRUE(text.ok());

  // A restart with a cap the current log fits but one more entry does not.
  options_.max_log_bytes = text->size() + 10;
  daemon = Start();
  ASSERT_TRUE(daemon);
  WriteText(files_.File("runc"), "runc binary, replaced");
  auto update = daemon->MeasureAndExtend();
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  ASSERT_TRUE(update->log_save_error.has_value());
  ASSERT_EQ(update->extended.size(), 1u);
  EXPECT_EQ(update->extended[0].kind, RuntimeKind::kSaveFailed);
  EXPECT_EQ(update->extended[0].path, runtime::kSaveFailedMarkerPath);
  EXPECT_NE(update->extended[0].detail.find(files_.File("runc")), std::string::npos)
      << update->extended[0].detail;

  EXPECT_EQ(SavedLog(), before) << "a failed save leaves the file as it was";
  ASSERT_EQ(daemon->log().entries.size(), 3u);
  EXPECT_EQ(daemon->log().entries[2].kind, RuntimeKind::kSaveFailed);
  EXPECT_EQ(PcrValue(), Replay(daemon->log().entries));
  EXPECT_EQ(pcr_.extends_done(), 3);

  // A restart finds the marker in the PCR but not in the file, and puts it back.
  daemon.reset();
  options_.max_log_bytes = runtime::kMaxRuntimeLogBytes;
  daemon = Start();
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->start_check().state, RuntimeLogCheck::State::kRecovered);
  EXPECT_EQ(pcr_.extends_done(), 3) << "putting the marker back extends nothing";
  const RuntimeLog saved = SavedLog();
  ASSERT_EQ(saved.entries.size(), 3u);
  EXPECT_EQ(saved.entries[2].kind, RuntimeKind::kSaveFailed);
  EXPECT_EQ(PcrValue(), Replay(saved.entries));
}

}  // namespace
}  // namespace attest::attestd
