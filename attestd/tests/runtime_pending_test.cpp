// The pending-extend marker file (runtime/FORMAT.md §4.2): its exact text, a strict
// reader, and absence as the normal case.
#include "attest/attestd/runtime_pending.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "attest/encoding.h"
#include "attest/file.h"

#include "runtime_test_util.h"

namespace attest::attestd {
namespace {

using test::TempDir;
using test::WriteText;

PendingExtend Example() {
  PendingExtend pending;
  pending.seq = 3;
  EXPECT_TRUE(DecodeLowercaseHex("8281496718c4ca8fd2a74061a84a4014f31121054bae55d0b2c5e9e894b4e774",
                                 pending.extend_digest));
  return pending;
}

class RuntimePendingTest : public ::testing::Test {
 protected:
  std::string path() const { return PendingExtendPath(dir_.File("runtime-log.json")); }

  void ExpectCorrupt(const std::string& text, const std::string& expected) {
    WriteText(path(), text);
    auto loaded = LoadPendingExtend(path());
    ASSERT_FALSE(loaded.ok()) << text;
    EXPECT_EQ(loaded.error().code, ErrorCode::kCorrupt);
    EXPECT_NE(loaded.error().message.find(expected), std::string::npos)
        << "\"" << expected << "\" not in: " << loaded.error().message;
    EXPECT_NE(loaded.error().message.find(path()), std::string::npos) << loaded.error().message;
  }

  TempDir dir_;
};

TEST_F(RuntimePendingTest, LivesBesideTheLog) {
  EXPECT_EQ(PendingExtendPath("/run/attestd/runtime-log.json"),
            "/run/attestd/runtime-log.json.pending");
}

TEST_F(RuntimePendingTest, TextIsPinned) {
  EXPECT_EQ(SerializePendingExtend(Example()),
            "{\"version\":1,\"seq\":3,\"extend_digest\":"
            "\"8281496718c4ca8fd2a74061a84a4014f31121054bae55d0b2c5e9e894b4e774\"}\n");
}

TEST_F(RuntimePendingTest, SaveLoadRemove) {
  auto absent = LoadPendingExtend(path());
  ASSERT_TRUE(absent.ok()) << absent.error().ToString();
  EXPECT_FALSE(absent->has_value());

  ASSERT_TRUE(SavePendingExtend(path(), Example()).ok());
  struct stat info {};
  ASSERT_EQ(::stat(path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
  auto loaded = LoadPendingExtend(path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, Example());

  ASSERT_TRUE(RemovePendingExtend(path()).ok());
  EXPECT_FALSE(PathExists(path()));
  EXPECT_TRUE(RemovePendingExtend(path()).ok()) << "removing an absent marker is no error";
}

TEST_F(RuntimePendingTest, AnythingElseIsCorrupt) {
  const std::string digest = "\"" + std::string(64, 'a') + "\"";
  ExpectCorrupt("", "JSON");
  ExpectCorrupt("[]", "document");
  ExpectCorrupt("{\"version\":1,\"seq\":3}", "extend_digest");
  ExpectCorrupt("{\"version\":2,\"seq\":3,\"extend_digest\":" + digest + "}", "version");
  ExpectCorrupt("{\"version\":1,\"seq\":0,\"extend_digest\":" + digest + "}", "seq");
  ExpectCorrupt("{\"version\":1,\"seq\":-1,\"extend_digest\":" + digest + "}", "seq");
  ExpectCorrupt("{\"version\":1,\"seq\":3,\"extend_digest\":\"AA\"}", "extend_digest");
  ExpectCorrupt("{\"version\":1,\"seq\":3,\"extend_digest\":" + digest + ",\"path\":\"/x\"}",
                "path");
  // Refused by size before it is read (the wording is ReadFile's).
  ExpectCorrupt(std::string(5000, ' '), "");
}

}  // namespace
}  // namespace attest::attestd
