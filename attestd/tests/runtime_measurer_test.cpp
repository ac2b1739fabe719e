// The measurement step: which results become new log entries, and the log
// it keeps on disk.
#include "attest/attestd/runtime_measurer.h"

#include <algorithm>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/attestd/runtime_pending.h"
#include "attest/file.h"

#include "runtime_test_util.h"

namespace attest::attestd {
namespace {

using test::FakeClock;
using test::TempDir;
using test::WriteText;

std::vector<std::string> Paths(const std::vector<runtime::RuntimeEntry>& entries) {
  std::vector<std::string> paths;
  for (const runtime::RuntimeEntry& entry : entries) paths.push_back(entry.path);
  return paths;
}

class RuntimeMeasurerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(dir_.File("bin").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(dir_.File("etc").c_str(), 0755), 0);
    WriteText(dir_.File("bin/runc"), "runc v1.1");
    WriteText(dir_.File("bin/containerd"), "containerd v1.7");
    WriteText(dir_.File("bin/containerd-shim-runc-v2"), "shim v2");
    WriteText(dir_.File("etc/config.toml"), "version = 2\n");
    patterns_ = {dir_.File("bin/runc"), dir_.File("bin/containerd*"), dir_.File("etc/config.toml")};
  }

  RuntimeMeasurer NewMeasurer(runtime::RuntimeLog log = {}) {
    RuntimeMeasurerOptions options;
    options.log_path = log_path();
    Result<RuntimeMeasurer> measurer =
        RuntimeMeasurer::Create(patterns_, clock_, std::move(log), options);
    EXPECT_TRUE(measurer.ok()) << measurer.error().ToString();
    return std::move(measurer).value();
  }

  // One Measure() pass whose new entries are all appended.
  std::vector<runtime::RuntimeEntry> MeasureAndAppend(RuntimeMeasurer& measurer) {
    Result<RuntimeMeasurement> measured = measurer.Measure();
    EXPECT_TRUE(measured.ok()) << measured.error().ToString();
    if (!measured.ok()) return {};
    for (const runtime::RuntimeEntry& entry : measured->new_entries) {
      Status appended = measurer.Append(entry);
      EXPECT_TRUE(appended.ok()) << appended.error().ToString();
    }
    return measured->new_entries;
  }

  std::string log_path() const { return dir_.File("runtime-log.json"); }

  TempDir dir_;
  FakeClock clock_;
  std::vector<std::string> patterns_;
};

TEST_F(RuntimeMeasurerTest, FirstRunGivesOneEntryPerFileInPathOrder) {
  RuntimeMeasurer measurer = NewMeasurer();
  std::vector<runtime::RuntimeEntry> entries = MeasureAndAppend(measurer);
  EXPECT_EQ(Paths(entries),
            (std::vector<std::string>{dir_.File("bin/containerd"),
                                      dir_.File("bin/containerd-shim-runc-v2"),
                                      dir_.File("bin/runc"), dir_.File("etc/config.toml")}));
  ASSERT_EQ(entries.size(), 4u);
  const runtime::RuntimeEntry& runc = entries[2];
  EXPECT_EQ(runc.pcr, 15u);
  EXPECT_EQ(runc.kind, runtime::RuntimeKind::kFile);
  EXPECT_EQ(runc.sha256, Sha256Of(AsBytes("runc v1.1")));
  EXPECT_EQ(runc.size, 9u);
  EXPECT_EQ(runc.time, FormatRfc3339Utc(clock_.Now()));
  EXPECT_EQ(measurer.log().entries, entries);
}

TEST_F(RuntimeMeasurerTest, SecondRunGivesNothing) {
  RuntimeMeasurer measurer = NewMeasurer();
  MeasureAndAppend(measurer);
  clock_.Advance(std::chrono::minutes(1));
  Result<RuntimeMeasurement> again = measurer.Measure();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->new_entries.empty());
  EXPECT_TRUE(again->warnings.empty());
}

TEST_F(RuntimeMeasurerTest, ChangingOneByteGivesExactlyOneEntry) {
  RuntimeMeasurer measurer = NewMeasurer();
  MeasureAndAppend(measurer);
  WriteText(dir_.File("bin/runc"), "runc v1.2");  // same size, one byte differs
  std::vector<runtime::RuntimeEntry> entries = MeasureAndAppend(measurer);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].path, dir_.File("bin/runc"));
  EXPECT_EQ(entries[0].sha256, Sha256Of(AsBytes("runc v1.2")));
  EXPECT_EQ(measurer.log().entries.size(), 5u);
  // Changing it back is a change too: the last entry is what counts.
  WriteText(dir_.File("bin/runc"), "runc v1.1");
  EXPECT_EQ(Paths(MeasureAndAppend(measurer)), (std::vector<std::string>{dir_.File("bin/runc")}));
}

TEST_F(RuntimeMeasurerTest, DeletingALiteralPathGivesAMissingEntry) {
  RuntimeMeasurer measurer = NewMeasurer();
  MeasureAndAppend(measurer);
  ASSERT_EQ(::unlink(dir_.File("etc/config.toml").c_str()), 0);
  std::vector<runtime::RuntimeEntry> entries = MeasureAndAppend(measurer);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].path, dir_.File("etc/config.toml"));
  EXPECT_EQ(entries[0].kind, runtime::RuntimeKind::kMissing);
  EXPECT_EQ(entries[0].detail, "stat: No such file or directory (ENOENT)");
  // Still missing: nothing new. Back again: a file entry.
  EXPECT_TRUE(MeasureAndAppend(measurer).empty());
  WriteText(dir_.File("etc/config.toml"), "version = 2\n");
  entries = MeasureAndAppend(measurer);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, runtime::RuntimeKind::kFile);
}

TEST_F(RuntimeMeasurerTest, PathThatStopsMatchingAGlobGivesNothing) {
  RuntimeMeasurer measurer = NewMeasurer();
  MeasureAndAppend(measurer);
  ASSERT_EQ(::unlink(dir_.File("bin/containerd-shim-runc-v2").c_str()), 0);
  EXPECT_TRUE(MeasureAndAppend(measurer).empty());
  // A new match is a new path.
  WriteText(dir_.File("bin/containerd-shim-runc-v3"), "shim v3");
  EXPECT_EQ(Paths(MeasureAndAppend(measurer)),
            (std::vector<std::string>{dir_.File("bin/containerd-shim-runc-v3")}));
}

TEST_F(RuntimeMeasurerTest, ErrorOutcomesAreEntriesOnceEach) {
  patterns_ = {dir_.File("bin"), dir_.File("absent"), dir_.File("bin/runc")};
  RuntimeMeasurer measurer = NewMeasurer();
  std::vector<runtime::RuntimeEntry> entries = MeasureAndAppend(measurer);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].kind, runtime::RuntimeKind::kMissing);     // absent
  EXPECT_EQ(entries[1].kind, runtime::RuntimeKind::kUnreadable);  // bin, a directory
  EXPECT_EQ(entries[2].kind, runtime::RuntimeKind::kFile);
  EXPECT_TRUE(MeasureAndAppend(measurer).empty());
}

TEST_F(RuntimeMeasurerTest, GlobWithoutMatchesIsAWarning) {
  patterns_.push_back(dir_.File("bin/dockerd*"));
  RuntimeMeasurer measurer = NewMeasurer();
  Result<RuntimeMeasurement> measured = measurer.Measure();
  ASSERT_TRUE(measured.ok());
  EXPECT_EQ(measured->new_entries.size(), 4u);
  EXPECT_EQ(measured->warnings,
            (std::vector<std::string>{"runtime pattern " + dir_.File("bin/dockerd*") +
                                      " matched no files"}));
}

// A directory a glob cannot list used to be only a warning: a binary added
// there went unmeasured. A symlink loop makes opendir fail (ELOOP) even for
// root; an unprivileged attestd meets EACCES the same way.
TEST_F(RuntimeMeasurerTest, UnreadableGlobDirectoryIsAnUnreadableEntry) {
  ASSERT_EQ(::symlink("loop", dir_.File("loop").c_str()), 0);
  patterns_.push_back(dir_.File("loop/*"));
  RuntimeMeasurer measurer = NewMeasurer();
  std::vector<runtime::RuntimeEntry> entries = MeasureAndAppend(measurer);
  auto loop = std::ranges::find_if(
      entries, [&](const runtime::RuntimeEntry& entry) { return entry.path == dir_.File("loop"); });
  ASSERT_NE(loop, entries.end());
  EXPECT_EQ(loop->kind, runtime::RuntimeKind::kUnreadable);
  EXPECT_NE(loop->detail.find("cannot list this directory"), std::string::npos) << loop->detail;
  EXPECT_EQ(entries.size(), 5u);                    // the four files and the directory
  EXPECT_TRUE(MeasureAndAppend(measurer).empty());  // once, not every pass
}

TEST_F(RuntimeMeasurerTest, MeasureDoesNotChangeTheLog) {
  RuntimeMeasurer measurer = NewMeasurer();
  ASSERT_TRUE(measurer.Measure().ok());
  EXPECT_TRUE(measurer.log().entries.empty());
  EXPECT_EQ(measurer.Measure()->new_entries.size(), 4u);
}

// What attestd does at start: load the log from /run and go on from it.
TEST_F(RuntimeMeasurerTest, LogSavedByAppendReplaysAndResumes) {
  RuntimeMeasurer measurer = NewMeasurer();
  std::vector<runtime::RuntimeEntry> first = MeasureAndAppend(measurer);
  Result<runtime::RuntimeLog> saved = runtime::LoadRuntimeLog(log_path());
  ASSERT_TRUE(saved.ok()) << saved.error().ToString();
  EXPECT_EQ(*saved, measurer.log());

  Sha256Digest pcr{};  // what a TPM would hold after the extends
  for (const runtime::RuntimeEntry& entry : first) {
    pcr =
        Sha256().Update(AsBytes(pcr)).Update(AsBytes(runtime::RuntimeExtendDigest(entry))).Finish();
  }
  EXPECT_EQ(runtime::Replay(saved->entries), pcr);

  RuntimeMeasurer restarted = NewMeasurer(std::move(saved).value());
  EXPECT_TRUE(MeasureAndAppend(restarted).empty());
  WriteText(dir_.File("bin/containerd"), "containerd v1.8");
  EXPECT_EQ(MeasureAndAppend(restarted).size(), 1u);
  EXPECT_EQ(runtime::LoadRuntimeLog(log_path())->entries.size(), 5u);
}

TEST_F(RuntimeMeasurerTest, FailedSaveLeavesTheLogAsItWas) {
  RuntimeMeasurerOptions options;
  options.log_path = dir_.File("no-such-dir/runtime-log.json");
  Result<RuntimeMeasurer> measurer = RuntimeMeasurer::Create(patterns_, clock_, {}, options);
  ASSERT_TRUE(measurer.ok());
  Result<RuntimeMeasurement> measured = measurer->Measure();
  ASSERT_TRUE(measured.ok());
  ASSERT_FALSE(measured->new_entries.empty());
  Status appended = measurer->Append(measured->new_entries[0]);
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.error().message.find("no-such-dir"), std::string::npos);
  EXPECT_TRUE(measurer->log().entries.empty());
  // And the failed entry is still new next time.
  EXPECT_EQ(measurer->Measure()->new_entries.size(), measured->new_entries.size());
}

// Regression (issue 10, item 13): such a name used to be a warning only.
TEST_F(RuntimeMeasurerTest, AnUndecodableNameIsAnUnreadableEntryOnce) {
  WriteText(dir_.File("bin/containerd-\xff"), "a binary no one can name in UTF-8");
  RuntimeMeasurer measurer = NewMeasurer();
  std::vector<runtime::RuntimeEntry> entries = MeasureAndAppend(measurer);
  EXPECT_EQ(Paths(entries), (std::vector<std::string>{
                                dir_.File("bin/containerd"), dir_.File("bin/containerd-\\xff"),
                                dir_.File("bin/containerd-shim-runc-v2"), dir_.File("bin/runc"),
                                dir_.File("etc/config.toml")}));
  const runtime::RuntimeEntry& undecodable = entries[1];
  EXPECT_EQ(undecodable.kind, runtime::RuntimeKind::kUnreadable);
  EXPECT_NE(undecodable.detail.find("not valid UTF-8"), std::string::npos) << undecodable.detail;
  // The saved log takes it (valid UTF-8 path), and the next pass is quiet.
  EXPECT_EQ(runtime::LoadRuntimeLog(log_path())->entries.size(), 5u);
  EXPECT_TRUE(MeasureAndAppend(measurer).empty());
}

// runtime/FORMAT.md §4.2: the marker is on disk before the entry is, and names it.
TEST_F(RuntimeMeasurerTest, AppendWritesThePendingMarkerAndMarkExtendedRemovesIt) {
  RuntimeMeasurer measurer = NewMeasurer();
  const std::string pending_path = PendingExtendPath(log_path());
  Result<RuntimeMeasurement> measured = measurer.Measure();
  ASSERT_TRUE(measured.ok());
  ASSERT_TRUE(measurer.Append(measured->new_entries[0]).ok());
  EXPECT_TRUE(measurer.extend_pending());
  auto pending = LoadPendingExtend(pending_path);
  ASSERT_TRUE(pending.ok() && pending->has_value());
  EXPECT_EQ((*pending)->seq, 1u);
  EXPECT_EQ((*pending)->extend_digest, runtime::RuntimeExtendDigest(measured->new_entries[0]));

  ASSERT_TRUE(measurer.MarkExtended().ok());
  EXPECT_FALSE(measurer.extend_pending());
  EXPECT_FALSE(PathExists(pending_path));
}

// A failed save (here: the size cap) leaves the log as it was; the marker
// written just before it names a seq the log does not have, which is what
// Start recognizes as "never logged, never extended".
TEST_F(RuntimeMeasurerTest, AFailedSaveLeavesAMarkerPastTheLogsEnd) {
  RuntimeMeasurerOptions options;
  options.log_path = log_path();
  auto measurer = RuntimeMeasurer::Create(patterns_, clock_, {}, options);
  ASSERT_TRUE(measurer.ok());
  auto measured = measurer->Measure();
  ASSERT_TRUE(measured.ok());
  ASSERT_EQ(measured->new_entries.size(), 4u);
  // A cap that holds the first two entries and not the third.
  runtime::RuntimeLog two{15, {measured->new_entries[0], measured->new_entries[1]}};
  const std::size_t cap = runtime::SerializeRuntimeLog(two)->size() + 8;
  options.max_log_bytes = cap;
  measurer = RuntimeMeasurer::Create(patterns_, clock_, {}, options);
  ASSERT_TRUE(measurer.ok());
  ASSERT_TRUE(measurer->Append(measured->new_entries[0]).ok());
  ASSERT_TRUE(measurer->MarkExtended().ok());
  ASSERT_TRUE(measurer->Append(measured->new_entries[1]).ok());
  ASSERT_TRUE(measurer->MarkExtended().ok());
  Status third = measurer->Append(measured->new_entries[2]);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.error().message.find("more than the limit of " + std::to_string(cap)),
            std::string::npos)
      << third.error().message;
  EXPECT_EQ(measurer->log().entries.size(), 2u);
  EXPECT_EQ(runtime::LoadRuntimeLog(log_path())->entries.size(), 2u);
  EXPECT_FALSE(measurer->extend_pending());
  auto pending = LoadPendingExtend(PendingExtendPath(log_path()));
  ASSERT_TRUE(pending.ok() && pending->has_value());
  EXPECT_EQ((*pending)->seq, 3u);
}

TEST_F(RuntimeMeasurerTest, AnUnsavedEntryWaitsForSaveLog) {
  RuntimeMeasurer measurer = NewMeasurer();
  MeasureAndAppend(measurer);
  ASSERT_TRUE(measurer.MarkExtended().ok());
  ASSERT_TRUE(
      measurer.AppendUnsaved(runtime::SaveFailedMarker(15, "disk full", "2026-11-22T09:22:00Z"))
          .ok());
  EXPECT_FALSE(measurer.log_saved());
  EXPECT_TRUE(measurer.extend_pending());
  EXPECT_EQ(measurer.log().entries.size(), 5u);
  EXPECT_EQ(runtime::LoadRuntimeLog(log_path())->entries.size(), 4u);
  ASSERT_TRUE(measurer.MarkExtended().ok());
  ASSERT_TRUE(measurer.SaveLog().ok());
  EXPECT_TRUE(measurer.log_saved());
  auto saved = runtime::LoadRuntimeLog(log_path());
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(*saved, measurer.log());
  // The marker measures no path: every file is still unchanged.
  EXPECT_TRUE(measurer.Measure()->new_entries.empty());
}

TEST_F(RuntimeMeasurerTest, CreateRejectsARelativePattern) {
  Result<RuntimeMeasurer> measurer =
      RuntimeMeasurer::Create({"/usr/bin/runc", "usr/bin/crun"}, clock_, {});
  ASSERT_FALSE(measurer.ok());
  EXPECT_EQ(measurer.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(measurer.error().message.find("\"usr/bin/crun\""), std::string::npos);
}

TEST_F(RuntimeMeasurerTest, CreateRejectsALogForAnotherPcr) {
  runtime::RuntimeLog log;
  log.pcr = 14;
  Result<RuntimeMeasurer> measurer = RuntimeMeasurer::Create(patterns_, clock_, log);
  ASSERT_FALSE(measurer.ok());
  EXPECT_EQ(measurer.error().message, "the runtime log is for PCR 14 but PCR 15 is configured");
  RuntimeMeasurerOptions options;
  options.pcr = 14;
  options.log_path = "";
  EXPECT_TRUE(RuntimeMeasurer::Create(patterns_, clock_, log, options).ok());
}

}  // namespace
}  // namespace attest::attestd
