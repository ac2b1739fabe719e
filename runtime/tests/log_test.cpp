// The runtime log file: it round-trips, and loading refuses every kind of
// damage with kCorrupt and the place of the damage.
#include "attest/runtime/log.h"

#include <functional>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/json.h"
#include "attest/testing/test_support.h"

#include "example_entries.h"

namespace attest::runtime {
namespace {

using attest::test::ReadText;
using attest::test::TempDir;
using attest::test::WriteText;

RuntimeLog ExampleLog() {
  RuntimeLog log;
  log.pcr = 15;
  RuntimeEntry unreadable;
  unreadable.path = "/usr/bin/containerd-shim \"v2\"";
  unreadable.kind = RuntimeKind::kUnreadable;
  unreadable.detail = "open: Permission denied (EACCES)";
  unreadable.time = "2026-11-22T09:22:00.000003Z";
  log.entries = {ExampleFile(), ExampleMissing(), unreadable};
  return log;
}

class RuntimeLogTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.File("runtime-log.json"); }

  // Saves ExampleLog, lets `damage` edit its JSON, writes the result back
  // and loads it, expecting kCorrupt with every piece of `expected` in the
  // message (and the file's path, always).
  void ExpectCorrupt(const std::function<void(Json&)>& damage,
                     const std::vector<std::string>& expected) {
    ASSERT_TRUE(SaveRuntimeLog(path(), ExampleLog()).ok());
    Json json = Json::parse(ReadText(path()));
    damage(json);
    WriteText(path(), json.dump());
    ExpectLoadFails(ErrorCode::kCorrupt, expected);
  }

  void ExpectLoadFails(ErrorCode code, std::vector<std::string> expected) {
    Result<RuntimeLog> loaded = LoadRuntimeLog(path());
    ASSERT_FALSE(loaded.ok()) << "damage went unnoticed: " << ReadText(path());
    EXPECT_EQ(loaded.error().code, code) << loaded.error().ToString();
    expected.push_back(path() + ": ");
    for (const std::string& piece : expected) {
      EXPECT_NE(loaded.error().message.find(piece), std::string::npos)
          << "\"" << piece << "\" not in: " << loaded.error().message;
    }
  }

  TempDir dir_;
};

TEST_F(RuntimeLogTest, RoundTripsThroughAFile) {
  ASSERT_TRUE(SaveRuntimeLog(path(), ExampleLog()).ok());
  struct stat info {};
  ASSERT_EQ(::stat(path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644u);
  Result<RuntimeLog> loaded = LoadRuntimeLog(path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(*loaded, ExampleLog());
}

TEST_F(RuntimeLogTest, EmptyLogRoundTrips) {
  RuntimeLog empty;
  empty.pcr = 11;
  ASSERT_TRUE(SaveRuntimeLog(path(), empty).ok());
  EXPECT_EQ(ReadText(path()), "{\"version\":1,\"pcr\":11,\"bank\":\"sha256\",\"entries\":[]}\n");
  Result<RuntimeLog> loaded = LoadRuntimeLog(path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(*loaded, empty);
}

// The log text of FORMAT.md §5's example.
TEST_F(RuntimeLogTest, SerializedFormIsPinned) {
  RuntimeLog log = ExampleLog();
  log.entries.pop_back();
  Result<std::string> text = SerializeRuntimeLog(log);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  EXPECT_EQ(
      *text,
      "{\"version\":1,\"pcr\":15,\"bank\":\"sha256\",\"entries\":[\n"
      "{\"seq\":1,\"pcr\":15,\"path\":\"/usr/bin/runc\",\"kind\":\"file\","
      "\"sha256\":\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\","
      "\"size\":6,\"time\":\"2026-11-22T09:22:00.000001Z\","
      "\"extend_digest\":\"8281496718c4ca8fd2a74061a84a4014f31121054bae55d0b2c5e9e894b4e774\"},"
      "\n"
      "{\"seq\":2,\"pcr\":15,\"path\":\"/etc/containerd/config.toml\",\"kind\":\"missing\","
      "\"detail\":\"stat: No such file or directory (ENOENT)\","
      "\"time\":\"2026-11-22T09:22:00.000002Z\","
      "\"extend_digest\":\"24ce9d5e49bd8ef7895a25c6cec6175c9bfabb3a17aa9738e5f93cde991b2ad3\"}"
      "\n]}\n");
}

TEST_F(RuntimeLogTest, ReformattedLogStillLoads) {
  ASSERT_TRUE(SaveRuntimeLog(path(), ExampleLog()).ok());
  WriteText(path(), Json::parse(ReadText(path())).dump(2));
  Result<RuntimeLog> loaded = LoadRuntimeLog(path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(*loaded, ExampleLog());
}

TEST_F(RuntimeLogTest, AbsentLogIsNotFound) {
  Result<RuntimeLog> loaded = LoadRuntimeLog(path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
}

TEST_F(RuntimeLogTest, RejectsBadJson) {
  WriteText(path(), "{\"version\":1,\"pcr\":15,");
  ExpectLoadFails(ErrorCode::kCorrupt, {"JSON: "});
  WriteText(path(), "{\"version\":1,\"version\":1}");
  ExpectLoadFails(ErrorCode::kCorrupt, {"duplicate object key"});
  WriteText(path(), "[]");
  ExpectLoadFails(ErrorCode::kCorrupt, {"document: must be a JSON object"});
}

TEST_F(RuntimeLogTest, RejectsOversizedFileUnread) {
  int fd = ::open(path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kMaxRuntimeLogBytes) + 1), 0);
  ::close(fd);
  ExpectLoadFails(ErrorCode::kCorrupt, {"more than the limit"});
}

TEST_F(RuntimeLogTest, RejectsWrongSeq) {
  ExpectCorrupt([](Json& j) { j["entries"][1]["seq"] = 3; },
                {"entries[1].seq: expected 2, found 3"});
  ExpectCorrupt([](Json& j) { std::swap(j["entries"][0], j["entries"][1]); },
                {"entries[0].seq: expected 1, found 2"});
  ExpectCorrupt([](Json& j) { j["entries"].erase(1); }, {"entries[1].seq: expected 2, found 3"});
}

TEST_F(RuntimeLogTest, RejectsTamperedExtendDigest) {
  ExpectCorrupt(
      [](Json& j) {
        std::string digest = j["entries"][1]["extend_digest"];
        digest[0] = digest[0] == '0' ? '1' : '0';
        j["entries"][1]["extend_digest"] = digest;
      },
      {"entries[1].extend_digest: does not match the entry (recomputed 24ce9d5e"});
  // Changing what the digest covers is caught the same way.
  ExpectCorrupt([](Json& j) { j["entries"][0]["path"] = "/usr/bin/crun"; },
                {"entries[0].extend_digest: does not match"});
  ExpectCorrupt([](Json& j) { j["entries"][2]["kind"] = "missing"; },
                {"entries[2].extend_digest: does not match"});
}

TEST_F(RuntimeLogTest, RejectsUnknownKind) {
  ExpectCorrupt([](Json& j) { j["entries"][1]["kind"] = "deleted"; },
                {"entries[1].kind: unknown kind \"deleted\""});
  ExpectCorrupt([](Json& j) { j["entries"][0]["kind"] = "File"; }, {"entries[0].kind: unknown"});
}

TEST_F(RuntimeLogTest, RejectsMissingFields) {
  for (const char* field :
       {"seq", "pcr", "path", "kind", "sha256", "size", "time", "extend_digest"}) {
    SCOPED_TRACE(field);
    ExpectCorrupt([&](Json& j) { j["entries"][0].erase(field); },
                  {"entries[0]." + std::string(field) + ": missing"});
  }
  ExpectCorrupt([](Json& j) { j["entries"][1].erase("detail"); }, {"entries[1].detail: missing"});
  for (const char* field : {"version", "pcr", "bank", "entries"}) {
    SCOPED_TRACE(field);
    ExpectCorrupt([&](Json& j) { j.erase(field); }, {std::string(field) + ": missing"});
  }
}

TEST_F(RuntimeLogTest, RejectsWrongTypes) {
  struct Case {
    std::size_t index;
    const char* field;
    Json value;
    const char* why;
  };
  const std::vector<Case> cases = {
      {1, "seq", "2", "must be a non-negative integer"},
      {1, "seq", 2.5, "must be a non-negative integer"},
      {1, "pcr", -15, "must be a non-negative integer"},
      {1, "path", 42, "must be a string"},
      {1, "kind", Json::array({"missing"}), "must be a string"},
      {1, "detail", nullptr, "must be a string"},
      {1, "time", 1795000000, "must be a string"},
      {1, "time", "yesterday", "must be RFC 3339 UTC"},
      {0, "size", -6, "must be a non-negative integer"},
      {0, "size", "6", "must be a non-negative integer"},
      {0, "sha256", "5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03",
       "must be 64 lowercase hex digits"},
      {0, "sha256", "5891b5", "must be 64 lowercase hex digits"},
      {0, "extend_digest", true, "must be a string"},
      {2, "path", "relative/path", "must be absolute"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.field) + " = " + c.value.dump());
    ExpectCorrupt([&](Json& j) { j["entries"][c.index][c.field] = c.value; },
                  {"entries[" + std::to_string(c.index) + "]." + c.field + ": " + c.why});
  }
  ExpectCorrupt([](Json& j) { j["entries"][1] = "entry"; }, {"entries[1]: must be an object"});
  ExpectCorrupt([](Json& j) { j["entries"] = Json::object(); }, {"entries: must be an array"});
  ExpectCorrupt([](Json& j) { j["pcr"] = "15"; }, {"pcr: must be a non-negative integer"});
  ExpectCorrupt([](Json& j) { j["pcr"] = 24; }, {"pcr: must be 0..23"});
  ExpectCorrupt([](Json& j) { j["bank"] = "sha1"; }, {"bank: must be \"sha256\""});
}

TEST_F(RuntimeLogTest, RejectsFieldsThatDoNotBelong) {
  ExpectCorrupt([](Json& j) { j["entries"][1]["note"] = "x"; },
                {"entries[1]: unknown field \"note\""});
  ExpectCorrupt([](Json& j) { j["signature"] = "x"; }, {"document: unknown field \"signature\""});
  ExpectCorrupt([](Json& j) { j["entries"][0]["detail"] = "x"; },
                {"entries[0].detail: not allowed for kind \"file\""});
  ExpectCorrupt([](Json& j) { j["entries"][1]["size"] = 0; },
                {"entries[1].size: not allowed for kind \"missing\""});
  ExpectCorrupt([](Json& j) { j["entries"][2]["sha256"] = std::string(64, '0'); },
                {"entries[2].sha256: not allowed for kind \"unreadable\""});
  ExpectCorrupt([](Json& j) { j["entries"][1]["pcr"] = 14; },
                {"entries[1].pcr: is 14 in a log for PCR 15"});
}

TEST_F(RuntimeLogTest, NewerVersionIsUnsupported) {
  ASSERT_TRUE(SaveRuntimeLog(path(), ExampleLog()).ok());
  Json json = Json::parse(ReadText(path()));
  json["version"] = 2;
  WriteText(path(), json.dump());
  ExpectLoadFails(ErrorCode::kUnsupported, {"version 2 is not supported"});
}

TEST_F(RuntimeLogTest, SaveRefusesWhatLoadWouldRefuse) {
  RuntimeLog log = ExampleLog();
  log.entries[1].path = "etc/containerd/config.toml";
  Status saved = SaveRuntimeLog(path(), log);
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(saved.error().message.find("entries[1].path: must be absolute"), std::string::npos)
      << saved.error().message;
  EXPECT_FALSE(PathExists(path()));

  log = ExampleLog();
  log.entries[0].detail = "a file has no detail";
  EXPECT_FALSE(SaveRuntimeLog(path(), log).ok());
  log = ExampleLog();
  log.entries[1].size = 1;
  EXPECT_FALSE(SaveRuntimeLog(path(), log).ok());
  log = ExampleLog();
  log.entries[2].pcr = 16;
  EXPECT_FALSE(SaveRuntimeLog(path(), log).ok());
  log = ExampleLog();
  log.entries[2].time = "";
  EXPECT_FALSE(SaveRuntimeLog(path(), log).ok());
}

TEST_F(RuntimeLogTest, SaveFailedMarkerRoundTripsOnlyAtItsFixedPath) {
  RuntimeLog log = ExampleLog();
  log.entries.push_back(
      SaveFailedMarker(15, "could not save: No space left on device", "2026-11-22T09:23:00Z"));
  ASSERT_TRUE(SaveRuntimeLog(path(), log).ok());
  Result<RuntimeLog> loaded = LoadRuntimeLog(path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(*loaded, log);
  EXPECT_NE(ReadText(path()).find("\"kind\":\"save-failed\""), std::string::npos);

  log.entries.back().path = "/usr/bin/runc";
  Status saved = SaveRuntimeLog(path(), log);
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.error().message.find("entries[3].path: must be /run/attestd/runtime-log.json"),
            std::string::npos)
      << saved.error().message;
  ExpectCorrupt(
      [](Json& j) {
        j["entries"][2]["kind"] = "save-failed";
        j["entries"][2]["extend_digest"] = std::string(64, '0');
      },
      {"entries[2].path: must be /run/attestd/runtime-log.json"});
}

// The cap is what makes a save fail for real in the swtpm tests; the file
// on disk is then left as it was.
TEST_F(RuntimeLogTest, SaveOverTheSizeCapFailsAndKeepsTheOldFile) {
  RuntimeLog log = ExampleLog();
  ASSERT_TRUE(SaveRuntimeLog(path(), log).ok());
  const std::string before = ReadText(path());
  Result<std::string> text = SerializeRuntimeLog(log);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(SaveRuntimeLog(path(), log, text->size()).ok());
  log.entries.push_back(ExampleFile());
  log.entries.back().time = "2026-11-22T09:23:00Z";
  Status saved = SaveRuntimeLog(path(), log, text->size());
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.error().message.find("more than the limit of " + std::to_string(text->size())),
            std::string::npos)
      << saved.error().message;
  EXPECT_EQ(ReadText(path()), before);
}

}  // namespace
}  // namespace attest::runtime
