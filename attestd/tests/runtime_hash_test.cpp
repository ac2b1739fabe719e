// Hashing one runtime file: digests agree with `sha256sum`, and every way a
// path can fail to be a stable regular file is an outcome with a reason.
#include "attest/attestd/runtime_hash.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <future>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/encoding.h"

#include "runtime_test_util.h"

namespace attest::attestd {
namespace {

using test::PseudoRandomBytes;
using test::Sha256sumOf;
using test::TempDir;
using test::WriteText;

std::string Hex(const Sha256Digest& digest) { return HexEncode(AsBytes(digest)); }

std::string Describe(const FileMeasurement& m) {
  return std::string(runtime::RuntimeKindName(m.kind)) + " " + Hex(m.sha256) + " " + m.detail;
}

class RuntimeHashTest : public ::testing::Test {
 protected:
  // Writes `content` to `name`, hashes it and compares with sha256sum.
  void ExpectSameAsSha256sum(const std::string& name, const std::string& content,
                             const HashOptions& options = {}) {
    std::string path = dir_.File(name);
    WriteText(path, content);
    FileMeasurement m = HashRuntimeFile(path, options);
    ASSERT_EQ(m.kind, runtime::RuntimeKind::kFile) << name << ": " << Describe(m);
    EXPECT_EQ(Hex(m.sha256), Sha256sumOf(path)) << name;
    EXPECT_EQ(m.size, content.size()) << name;
    EXPECT_TRUE(m.detail.empty()) << name;
  }

  TempDir dir_;
};

TEST_F(RuntimeHashTest, EmptyFileMatchesSha256sum) {
  ExpectSameAsSha256sum("empty", "");
  EXPECT_EQ(Hex(HashRuntimeFile(dir_.File("empty")).sha256),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(RuntimeHashTest, OneByteFileMatchesSha256sum) { ExpectSameAsSha256sum("one", "x"); }

// "f" + std::to_string(size) trips a false -Wrestrict in GCC 12 at -O3.
std::string FileName(char prefix, std::size_t size) {
  std::string name(1, prefix);
  name += std::to_string(size);
  return name;
}

TEST_F(RuntimeHashTest, ChunkBoundarySizesMatchSha256sum) {
  const std::size_t chunk = kDefaultHashChunkSize;
  for (std::size_t size : {chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 7}) {
    ExpectSameAsSha256sum(FileName('f', size), PseudoRandomBytes(size, 7));
  }
  // And with the smallest chunk, where a file is many reads.
  HashOptions small;
  small.chunk_size = 4096;
  for (std::size_t size : {4095u, 4096u, 4097u, 65536u, 100000u}) {
    ExpectSameAsSha256sum(FileName('s', size), PseudoRandomBytes(size, 8), small);
  }
}

TEST_F(RuntimeHashTest, ChunkSizeDoesNotChangeTheDigest) {
  std::string path = dir_.File("file");
  WriteText(path, PseudoRandomBytes(3 * 1024 * 1024 + 5, 9));
  Sha256Digest reference = HashRuntimeFile(path).sha256;
  for (std::size_t chunk : {4096u, 65536u, 256u * 1024, 1024u * 1024, 4u * 1024 * 1024}) {
    HashOptions options;
    options.chunk_size = chunk;
    EXPECT_EQ(HashRuntimeFile(path, options).sha256, reference) << chunk;
  }
}

// 300 MB of mostly holes, with data at the ends and the middle so a lost
// or reordered chunk would show.
TEST_F(RuntimeHashTest, SparseFileOf300MBMatchesSha256sum) {
  constexpr off_t kSize = off_t{300} * 1000 * 1000;
  std::string path = dir_.File("sparse");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, kSize), 0);
  for (off_t offset : {off_t{0}, kSize / 2 - 3, kSize - 5}) {
    ASSERT_EQ(::pwrite(fd, "abcde", 5, offset), 5);
  }
  ::close(fd);
  FileMeasurement m = HashRuntimeFile(path);
  ASSERT_EQ(m.kind, runtime::RuntimeKind::kFile) << Describe(m);
  EXPECT_EQ(m.size, static_cast<std::uint64_t>(kSize));
  EXPECT_EQ(Hex(m.sha256), Sha256sumOf(path));
}

TEST_F(RuntimeHashTest, FollowsASymlink) {
  WriteText(dir_.File("runc.real"), "runc binary");
  ASSERT_EQ(::symlink("runc.real", dir_.File("runc").c_str()), 0);
  FileMeasurement m = HashRuntimeFile(dir_.File("runc"));
  ASSERT_EQ(m.kind, runtime::RuntimeKind::kFile) << Describe(m);
  EXPECT_EQ(m.sha256, Sha256Of(AsBytes("runc binary")));
}

TEST_F(RuntimeHashTest, MissingFileIsMissing) {
  FileMeasurement m = HashRuntimeFile(dir_.File("absent"));
  EXPECT_EQ(m.kind, runtime::RuntimeKind::kMissing);
  EXPECT_EQ(m.detail, "stat: No such file or directory (ENOENT)");
  EXPECT_EQ(m.sha256, Sha256Digest{});
  EXPECT_EQ(m.size, 0u);
  // A dangling symlink names nothing either.
  ASSERT_EQ(::symlink("absent", dir_.File("dangling").c_str()), 0);
  EXPECT_EQ(HashRuntimeFile(dir_.File("dangling")).kind, runtime::RuntimeKind::kMissing);
}

TEST_F(RuntimeHashTest, PathThroughARegularFileIsMissing) {
  WriteText(dir_.File("plain"), "x");
  FileMeasurement m = HashRuntimeFile(dir_.File("plain/child"));
  EXPECT_EQ(m.kind, runtime::RuntimeKind::kMissing) << Describe(m);
  EXPECT_NE(m.detail.find("(ENOTDIR)"), std::string::npos) << m.detail;
}

TEST_F(RuntimeHashTest, SymlinkLoopIsUnreadableWithEloop) {
  ASSERT_EQ(::symlink("a", dir_.File("b").c_str()), 0);
  ASSERT_EQ(::symlink("b", dir_.File("a").c_str()), 0);
  FileMeasurement m = HashRuntimeFile(dir_.File("a"));
  EXPECT_EQ(m.kind, runtime::RuntimeKind::kUnreadable);
  EXPECT_EQ(m.detail,
            "stat: " + std::error_code(ELOOP, std::generic_category()).message() + " (ELOOP)");
}

TEST_F(RuntimeHashTest, DirectoryIsUnreadable) {
  FileMeasurement m = HashRuntimeFile(dir_.path());
  EXPECT_EQ(m.kind, runtime::RuntimeKind::kUnreadable);
  EXPECT_EQ(m.detail, "not a regular file: a directory");
}

TEST_F(RuntimeHashTest, DeviceIsUnreadableAndNeverRead) {
  FileMeasurement m = HashRuntimeFile("/dev/zero");  // reading it would never end
  EXPECT_EQ(m.kind, runtime::RuntimeKind::kUnreadable);
  EXPECT_EQ(m.detail, "not a regular file: a character device");
}

// A FIFO without a writer blocks open(O_RDONLY) forever; the hasher must
// return at once. If it ever blocks, the test opens the writer side to free
// it and fails instead of hanging.
TEST_F(RuntimeHashTest, FifoIsUnreadableAndDoesNotBlock) {
  std::string path = dir_.File("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  auto hashing = std::async(std::launch::async, [&] { return HashRuntimeFile(path); });
  if (hashing.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    int unblock = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    hashing.wait();
    if (unblock >= 0) ::close(unblock);
    FAIL() << "hashing a FIFO blocked";
  }
  FileMeasurement m = hashing.get();
  EXPECT_EQ(m.kind, runtime::RuntimeKind::kUnreadable);
  EXPECT_EQ(m.detail, "not a regular file: a FIFO");
}

// Root reads everything, so a child process drops to `nobody` and reports
// what it measured through a pipe.
TEST_F(RuntimeHashTest, PermissionDeniedIsUnreadable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to another user";
  const struct passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;
  std::string path = dir_.File("secret");
  WriteText(path, "root only");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);

  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe2(pipe_fds.data(), O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(125);
    FileMeasurement m = HashRuntimeFile(path);
    std::string report = std::string(runtime::RuntimeKindName(m.kind)) + "\n" + m.detail;
    ssize_t written = ::write(pipe_fds[1], report.data(), report.size());
    ::_exit(written == static_cast<ssize_t>(report.size()) ? 0 : 124);
  }
  ::close(pipe_fds[1]);
  std::string report;
  std::array<char, 256> buffer{};
  ssize_t n = 0;
  while ((n = ::read(pipe_fds[0], buffer.data(), buffer.size())) > 0) {
    report.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_EQ(report, "unreadable\nopen: Permission denied (EACCES)");
}

// A writer thread keeps appending to the file, through its own descriptor,
// until the hasher returns. Each attempt waits after its first chunk until
// the writer has appended again, so every attempt sees the file grow
// however the two threads are scheduled (on a loaded machine the writer
// could otherwise miss a whole attempt). The hook-based tests below pin the
// exact retry behaviour with inline changes.
TEST_F(RuntimeHashTest, FileGrowingWhileHashedIsUnstable) {
  std::string path = dir_.File("growing");
  WriteText(path, std::string(std::size_t{4} * 1024 * 1024, 'a'));
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> appends{0};
  std::thread writer([&] {
    while (!done.load()) {
      if (::write(fd, "b", 1) == 1) appends.fetch_add(1);
    }
  });
  HashOptions options;
  options.chunk_size = 4096;
  int attempts = 0;
  options.after_first_chunk = [&](int attempt) {
    attempts = attempt;
    const std::uint64_t seen = appends.load();
    while (appends.load() == seen) std::this_thread::yield();
  };
  FileMeasurement m = HashRuntimeFile(path, options);
  done.store(true);
  writer.join();
  ::close(fd);
  EXPECT_EQ(m.kind, runtime::RuntimeKind::kUnstable) << Describe(m);
  EXPECT_NE(m.detail.find("changed while being hashed, 4 attempts"), std::string::npos) << m.detail;
  EXPECT_EQ(m.sha256, Sha256Digest{});
  EXPECT_EQ(attempts, 4);
}

TEST_F(RuntimeHashTest, FileChangedOnEveryAttemptIsUnstable) {
  std::string path = dir_.File("churn");
  WriteText(path, PseudoRandomBytes(100000, 1));
  std::vector<int> attempts;
  HashOptions options;
  options.chunk_size = 4096;
  options.after_first_chunk = [&](int attempt) {
    attempts.push_back(attempt);
    std::ofstream(path, std::ios::app) << "more";
  };
  FileMeasurement m = HashRuntimeFile(path, options);
  EXPECT_EQ(m.kind, runtime::RuntimeKind::kUnstable) << Describe(m);
  EXPECT_EQ(attempts, (std::vector<int>{1, 2, 3, 4}));  // the first read and 3 retries
  EXPECT_NE(m.detail.find("4 attempts"), std::string::npos) << m.detail;
}

// Appended to, then truncated, then left alone: the third read counts, and
// its digest is of what the file holds at the end.
TEST_F(RuntimeHashTest, FileThatSettlesIsHashedOnRetry) {
  std::string path = dir_.File("settles");
  WriteText(path, PseudoRandomBytes(50000, 2));
  HashOptions options;
  options.chunk_size = 4096;
  options.after_first_chunk = [&](int attempt) {
    if (attempt == 1) std::ofstream(path, std::ios::app) << "appended";
    if (attempt == 2) {
      ASSERT_EQ(::truncate(path.c_str(), 20000), 0);
    }
  };
  FileMeasurement m = HashRuntimeFile(path, options);
  ASSERT_EQ(m.kind, runtime::RuntimeKind::kFile) << Describe(m);
  EXPECT_EQ(m.size, 20000u);
  EXPECT_EQ(Hex(m.sha256), Sha256sumOf(path));
}

// A file replaced by rename (how package managers install) during a read
// is read again; the new content is what gets measured.
TEST_F(RuntimeHashTest, FileReplacedWhileHashedIsReadAgain) {
  std::string path = dir_.File("runc");
  WriteText(path, PseudoRandomBytes(50000, 3));
  WriteText(dir_.File("runc.new"), "new runc");
  HashOptions options;
  options.chunk_size = 4096;
  options.after_first_chunk = [&](int attempt) {
    if (attempt == 1) {
      ASSERT_EQ(::rename(dir_.File("runc.new").c_str(), path.c_str()), 0);
    }
  };
  FileMeasurement m = HashRuntimeFile(path, options);
  ASSERT_EQ(m.kind, runtime::RuntimeKind::kFile) << Describe(m);
  EXPECT_EQ(m.sha256, Sha256Of(AsBytes("new runc")));
}

TEST_F(RuntimeHashTest, HasherIsReusableAcrossFilesAndOutcomes) {
  WriteText(dir_.File("a"), "first");
  WriteText(dir_.File("b"), "second");
  RuntimeFileHasher hasher;
  EXPECT_EQ(hasher.Hash(dir_.File("a")).sha256, Sha256Of(AsBytes("first")));
  EXPECT_EQ(hasher.Hash(dir_.File("missing")).kind, runtime::RuntimeKind::kMissing);
  EXPECT_EQ(hasher.Hash(dir_.path()).kind, runtime::RuntimeKind::kUnreadable);
  EXPECT_EQ(hasher.Hash(dir_.File("b")).sha256, Sha256Of(AsBytes("second")));
}

}  // namespace
}  // namespace attest::attestd
