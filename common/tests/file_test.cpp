#include "attest/file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attest {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = ::testing::TempDir() + "/file_test_XXXXXX";
    ASSERT_NE(::mkdtemp(directory_.data()), nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  mode_t ModeOf(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0);
    return info.st_mode & 07777;
  }
  std::string directory_;
};

TEST_F(FileTest, SecretFileIsOwnerOnlyWhateverTheUmask) {
  mode_t old = ::umask(0);
  std::string path = directory_ + "/key";
  Status created = CreateSecretFile(path, AsBytes("secret"));
  ::umask(old);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(ModeOf(path), 0600u);
  auto secret = ReadSecretFile(path, 1024);
  ASSERT_TRUE(secret.ok()) << secret.error().ToString();
  EXPECT_EQ(AsText(secret->view()), "secret");
  // Never overwrites.
  Status again = CreateSecretFile(path, AsBytes("other"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(FileTest, ReadSecretFileRefusesAGroupReadableFile) {
  std::string path = directory_ + "/loose";
  std::ofstream(path) << "secret";
  ::chmod(path.c_str(), 0640);
  auto secret = ReadSecretFile(path, 1024);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(secret.error().message.find("chmod 600 " + path), std::string::npos);
}

TEST_F(FileTest, ReadFileReportsMissingTooLargeAndDirectories) {
  auto missing = ReadFile(directory_ + "/nope", 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("/nope"), std::string::npos);

  std::string path = directory_ + "/big";
  std::ofstream(path) << std::string(11, 'x');
  auto big = ReadFile(path, 10);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("limit of 10"), std::string::npos);
  EXPECT_EQ(*ReadFile(path, 11), std::string(11, 'x'));

  EXPECT_FALSE(ReadFile(directory_, 10).ok());
}

TEST_F(FileTest, AtomicWriteReplacesAndSetsMode) {
  std::string path = directory_ + "/out";
  ASSERT_TRUE(WriteFileAtomically(path, "one", 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two", 0640).ok());
  EXPECT_EQ(*ReadFile(path, 100), "two");
  EXPECT_EQ(ModeOf(path), 0640u);
  // No temporary files are left behind.
  EXPECT_EQ(std::system(("test $(ls -A " + directory_ + " | wc -l) -eq 1").c_str()), 0);
}

TEST_F(FileTest, AtomicWriteIntoMissingDirectoryFailsCleanly) {
  Status status = WriteFileAtomically(directory_ + "/missing/out", "x", 0644);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace attest
