#include "attest/file.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
  // The names in the test directory that start with `prefix`.
  std::vector<std::string> EntriesStartingWith(const std::string& prefix) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
      std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) == 0) names.push_back(name);
    }
    return names;
  }
  std::string directory_;
};

// Runs `read` in a child that SIGALRM kills after `timeout_seconds`, so a read that
// blocks fails the test instead of hanging it. The child exits 0 when `read`
// returned (it checks the result itself), 1 otherwise.
::testing::AssertionResult ReturnsWithin(unsigned timeout_seconds,
                                         const std::function<bool()>& read) {
  pid_t child = ::fork();
  if (child < 0) return ::testing::AssertionFailure() << "fork failed";
  if (child == 0) {
    ::alarm(timeout_seconds);
    ::_exit(read() ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return ::testing::AssertionFailure() << "waitpid";
  if (WIFSIGNALED(status)) {
    return ::testing::AssertionFailure()
           << "still blocked after " << timeout_seconds << " s (signal " << WTERMSIG(status) << ")";
  }
  if (WEXITSTATUS(status) != 0) {
    return ::testing::AssertionFailure() << "returned, but not the expected error";
  }
  return ::testing::AssertionSuccess();
}

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

// Written under a temporary name and linked into place: no temporary is
// left beside the key, made or refused, and a refused one keeps the first.
TEST_F(FileTest, SecretFileLeavesOnlyTheKeyBehind) {
  std::string path = directory_ + "/key";
  ASSERT_TRUE(CreateSecretFile(path, AsBytes("secret")).ok());
  ASSERT_FALSE(CreateSecretFile(path, AsBytes("other")).ok());
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"key"});
  auto secret = ReadSecretFile(path, 1024);
  ASSERT_TRUE(secret.ok()) << secret.error().ToString();
  EXPECT_EQ(AsText(secret->view()), "secret");
}

// A file that appears at the name while the new one is written wins: the
// new one is dropped, not published over it.
TEST_F(FileTest, CommitNewRefusesANameTakenMeanwhile) {
  std::string path = directory_ + "/made-once";
  {
    auto writer = AtomicFileWriter::Create(path, 0600);
    ASSERT_TRUE(writer.ok()) << writer.error().ToString();
    writer->stream() << "mine";
    std::ofstream(path) << "theirs";
    Status committed = writer->CommitNew();
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.error().code, ErrorCode::kAlreadyExists);
  }  // the writer is dropped here, and its temporary with it
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"made-once"});
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "theirs");
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

// A FIFO with no writer used to block open() forever: the CLI hung.
TEST_F(FileTest, ReadingAFifoIsRefusedAtOnceInsteadOfHanging) {
  std::string fifo = directory_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto refused = [&fifo](const Error& error) {
    return error.code == ErrorCode::kInvalidArgument &&
           error.message == fifo + ": is a FIFO, not a regular file; give a regular file";
  };
  EXPECT_TRUE(ReturnsWithin(5, [&] {
    auto read = ReadFile(fifo, 100);
    return !read.ok() && refused(read.error());
  }));
  EXPECT_TRUE(ReturnsWithin(5, [&] {
    auto read = ReadSecretFile(fifo, 100);
    return !read.ok() && refused(read.error());
  }));
  auto directory = ReadFile(directory_, 10);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message,
            directory_ + ": is a directory, not a regular file; give a regular file");
  auto device = ReadFile("/dev/null", 10);
  ASSERT_FALSE(device.ok());
  EXPECT_NE(device.error().message.find("/dev/null: is a character device"), std::string::npos);
}

// Opening a device can act (/dev/watchdog arms a watchdog, a tty becomes
// the controlling terminal): what is not a regular file is refused before
// any open. inotify sees every open of the FIFO standing in for a device.
TEST_F(FileTest, WhatIsNotARegularFileIsNeverOpened) {
  std::string fifo = directory_ + "/device";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int watch = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  FileDescriptor watch_fd(watch);
  ASSERT_GE(::inotify_add_watch(watch, fifo.c_str(), IN_OPEN), 0);
  EXPECT_FALSE(ReadFile(fifo, 100).ok());
  EXPECT_FALSE(ReadSecretFile(fifo, 100).ok());
  EXPECT_FALSE(OpenRegularFile(fifo, false).ok());
  std::array<char, 4096> events{};
  EXPECT_EQ(::read(watch, events.data(), events.size()), -1) << "the FIFO was opened";
  EXPECT_EQ(errno, EAGAIN);
  // The watch does see an open: the control.
  FileDescriptor opened(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK));
  ASSERT_GE(opened.get(), 0);
  EXPECT_GT(::read(watch, events.data(), events.size()), 0);
}

// ssh's rule: a secret someone else owns could be swapped by them. CI runs
// as root, which can give a file to nobody (65534).
TEST_F(FileTest, ReadSecretFileRefusesAFileOwnedBySomeoneElse) {
  std::string path = directory_ + "/theirs";
  ASSERT_TRUE(CreateSecretFile(path, AsBytes("secret")).ok());
  ASSERT_TRUE(ReadSecretFile(path, 1024).ok());
  if (::chown(path.c_str(), 65534, 65534) != 0) {
    GTEST_SKIP() << "cannot chown to 65534 (not root?), errno " << errno;
  }
  auto secret = ReadSecretFile(path, 1024);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(secret.error().message.rfind(path + ": secret file is owned by uid 65534", 0), 0u)
      << secret.error().message;
  EXPECT_NE(secret.error().message.find("uid " + std::to_string(::geteuid())), std::string::npos)
      << secret.error().message;
  // Only secrets: anyone's file may be read as plain input.
  EXPECT_EQ(*ReadFile(path, 1024), "secret");
}

TEST_F(FileTest, AtomicWriterStreamsMoreThanItsBuffer) {
  std::string path = directory_ + "/big";
  std::string contents(200 * 1024 + 7, 'a');
  for (std::size_t i = 0; i < contents.size(); i += 4099) contents[i] = 'b';
  auto writer = AtomicFileWriter::Create(path, 0600);
  ASSERT_TRUE(writer.ok()) << writer.error().ToString();
  for (std::size_t i = 0; i < contents.size(); i += 1000) {
    writer->stream() << contents.substr(i, 1000);
  }
  EXPECT_FALSE(PathExists(path));  // nothing at the path before Commit
  Status committed = writer->Commit();
  ASSERT_TRUE(committed.ok()) << committed.error().ToString();
  EXPECT_EQ(*ReadFile(path, contents.size()), contents);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_TRUE(EntriesStartingWith(".big.").empty());
}

// The writer used to reopen its temporary file by name: a symlink planted
// there between Create and Commit redirected (and truncated) the write, or
// was renamed into place.
TEST_F(FileTest, AtomicWriterNeverFollowsASymlinkAtItsTemporaryName) {
  std::string target = directory_ + "/precious";
  std::ofstream(target) << "keep me";
  std::string path = directory_ + "/out";
  auto created = AtomicFileWriter::Create(path, 0644);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  std::optional<AtomicFileWriter> writer(std::move(created).value());
  writer->stream() << "first part, ";
  writer->stream().flush();
  std::vector<std::string> temporaries = EntriesStartingWith(".out.");
  ASSERT_EQ(temporaries.size(), 1u);
  std::string temporary = directory_ + "/" + temporaries[0];
  ASSERT_EQ(::unlink(temporary.c_str()), 0);
  ASSERT_EQ(::symlink(target.c_str(), temporary.c_str()), 0);
  writer->stream() << "second part";

  Status committed = writer->Commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code, ErrorCode::kIo);
  EXPECT_NE(committed.error().message.find("was replaced"), std::string::npos)
      << committed.error().message;
  EXPECT_FALSE(PathExists(path));
  std::ifstream in(target);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "keep me");
  // The planted link is not ours to remove; the writer leaves it alone.
  writer.reset();
  struct stat link {};
  EXPECT_EQ(::lstat(temporary.c_str(), &link), 0);
  EXPECT_TRUE(S_ISLNK(link.st_mode));
}

// A write the kernel refuses (here: past RLIMIT_FSIZE, a real EFBIG) fails
// Commit naming the error, and leaves neither the target nor a temporary.
TEST_F(FileTest, AtomicWriterFailedWriteLeavesNoFile) {
  std::string path = directory_ + "/out";
  auto created = AtomicFileWriter::Create(path, 0644);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  std::optional<AtomicFileWriter> writer(std::move(created).value());
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  writer->stream() << std::string(std::size_t{256} * 1024, 'x');
  Status committed = writer->Commit();
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  (void)std::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code, ErrorCode::kIo);
  EXPECT_NE(committed.error().message.find("File too large"), std::string::npos)
      << committed.error().message;
  EXPECT_FALSE(PathExists(path));
  writer.reset();
  EXPECT_TRUE(EntriesStartingWith(".out.").empty());
}

}  // namespace
}  // namespace attest
