// The state directory: the identity survives a restart exactly, its files
// are 0600 in a 0700 directory, a damaged file is refused rather than
// replaced, and only one attestd holds the directory at a time.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "attest/attestd/node_state.h"
#include "attest/testing/test_support.h"

namespace attest::attestd {
namespace {

using test::ReadText;
using test::TempDir;
using test::WriteText;

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

NodeIdentity SampleIdentity() {
  NodeIdentity identity;
  identity.ek_algorithm = EkAlgorithm::kEcc;
  identity.ak = KeyBlob{{0x00, 0x02, 0xaa, 0xbb}, {0x00, 0x01, 0xcc}};
  identity.node_id = std::string(64, 'e');
  identity.enrollment_id = std::string(32, '1');
  identity.enrolled = true;
  identity.node_key = KeyBlob{{0x01}, {0x02, 0x03}};
  return identity;
}

TEST(DaemonStateTest, TheIdentityReadsBackExactlyFromA0600File) {
  TempDir dir;
  const std::string state = dir.File("state");
  ASSERT_TRUE(PrepareStateDirectory(state).ok());
  EXPECT_EQ(ModeOf(state), 0700u);
  Result<std::optional<NodeIdentity>> none = LoadIdentity(state);
  ASSERT_TRUE(none.ok()) << none.error().ToString();
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(SaveIdentity(state, SampleIdentity()).ok());
  EXPECT_EQ(ModeOf(state + "/identity.json"), 0600u);
  Result<std::optional<NodeIdentity>> loaded = LoadIdentity(state);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  ASSERT_TRUE(loaded->has_value());
  const NodeIdentity& identity = **loaded;
  EXPECT_EQ(identity.ek_algorithm, EkAlgorithm::kEcc);
  EXPECT_EQ(identity.ak.public_area, (Bytes{0x00, 0x02, 0xaa, 0xbb}));
  EXPECT_EQ(identity.ak.private_area, (Bytes{0x00, 0x01, 0xcc}));
  EXPECT_EQ(identity.node_id, std::string(64, 'e'));
  EXPECT_EQ(identity.enrollment_id, std::string(32, '1'));
  EXPECT_TRUE(identity.enrolled);
  ASSERT_TRUE(identity.node_key.has_value());
  EXPECT_EQ(identity.node_key->private_area, (Bytes{0x02, 0x03}));
}

TEST(DaemonStateTest, ADamagedOrForeignIdentityIsRefusedNamingTheMember) {
  TempDir dir;
  ASSERT_TRUE(SaveIdentity(dir.path(), SampleIdentity()).ok());
  const std::string path = dir.File("identity.json");
  const std::string good = ReadText(path);

  WriteText(path, good.substr(0, good.size() / 2));
  Result<std::optional<NodeIdentity>> truncated = LoadIdentity(dir.path());
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code, ErrorCode::kCorrupt);

  std::string version_two = good;
  version_two.replace(version_two.find("\"version\": 1"), 12, "\"version\": 2");
  WriteText(path, version_two);
  Result<std::optional<NodeIdentity>> newer = LoadIdentity(dir.path());
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("version"), std::string::npos) << newer.error().message;

  std::string extra = good;
  extra.replace(extra.find('{'), 1, "{\"ak_private_in_clear\": \"x\",");
  WriteText(path, extra);
  Result<std::optional<NodeIdentity>> unknown = LoadIdentity(dir.path());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("ak_private_in_clear"), std::string::npos)
      << unknown.error().message;
}

TEST(DaemonStateTest, OneProcessHoldsTheStateDirectory) {
  TempDir dir;
  {
    Result<FileDescriptor> first = LockStateDirectory(dir.path());
    ASSERT_TRUE(first.ok()) << first.error().ToString();
    // flock locks belong to the open file: a second open is another holder.
    Result<FileDescriptor> second = LockStateDirectory(dir.path());
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, ErrorCode::kBusy);
  }  // the first descriptor closes: the lock is free
  Result<FileDescriptor> third = LockStateDirectory(dir.path());
  EXPECT_TRUE(third.ok()) << third.error().ToString();
}

TEST(DaemonStateTest, AStateDirectoryOthersMayWriteIsRefused) {
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  Status prepared = PrepareStateDirectory(dir.path());
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().code, ErrorCode::kPermissionDenied);
}

TEST(DaemonStateTest, TheStatusReadsBack) {
  TempDir dir;
  AttestationStatus status;
  status.time = 1'795'000'000;
  status.state = "untrusted";
  status.reasons = {{"RUNTIME_NOT_APPROVED", "/usr/bin/runc: sha256 ab is not approved"}};
  status.certificate_not_after = 1'795'003'600;
  status.last_trusted = 1'794'999'940;
  status.runtime_entries = 4;
  ASSERT_TRUE(SaveStatus(dir.path(), status).ok());
  Result<std::optional<AttestationStatus>> loaded = LoadStatus(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->state, "untrusted");
  ASSERT_EQ((*loaded)->reasons.size(), 1u);
  EXPECT_EQ((*loaded)->reasons[0].code, "RUNTIME_NOT_APPROVED");
  EXPECT_EQ((*loaded)->certificate_not_after, 1'795'003'600);
  EXPECT_EQ((*loaded)->last_trusted, 1'794'999'940);
  EXPECT_EQ((*loaded)->runtime_entries, 4u);
}

}  // namespace
}  // namespace attest::attestd
