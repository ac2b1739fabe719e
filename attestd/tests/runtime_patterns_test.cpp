// Expanding the configured runtime paths and globs.
#include "attest/attestd/runtime_patterns.h"

#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "runtime_test_util.h"

namespace attest::attestd {
namespace {

using test::TempDir;
using test::WriteText;

class RuntimePatternsTest : public ::testing::Test {
 protected:
  PatternExpansion Expand(const std::vector<std::string>& patterns) {
    Result<PatternExpansion> expansion = ExpandRuntimePatterns(patterns);
    EXPECT_TRUE(expansion.ok()) << expansion.error().ToString();
    return expansion.ok() ? *expansion : PatternExpansion{};
  }

  TempDir dir_;
};

TEST_F(RuntimePatternsTest, RecognizesGlobMetacharacters) {
  EXPECT_TRUE(IsGlobPattern("/usr/bin/containerd-shim*"));
  EXPECT_TRUE(IsGlobPattern("/usr/bin/run?"));
  EXPECT_TRUE(IsGlobPattern("/etc/[cd]*"));
  EXPECT_FALSE(IsGlobPattern("/usr/bin/runc"));
  EXPECT_FALSE(IsGlobPattern("/etc/containerd/config.toml"));
}

TEST_F(RuntimePatternsTest, GlobMatchesAreSortedAndDeduplicated) {
  for (const char* name : {"containerd-shim-runc-v2", "containerd", "containerd-shim", "runc",
                           "containerd-shim-runc-v1"}) {
    WriteText(dir_.File(name), name);
  }
  PatternExpansion expansion = Expand({dir_.File("runc"), dir_.File("containerd-shim*"),
                                       dir_.File("containerd*"), dir_.File("runc")});
  EXPECT_EQ(expansion.paths,
            (std::vector<std::string>{dir_.File("containerd"), dir_.File("containerd-shim"),
                                      dir_.File("containerd-shim-runc-v1"),
                                      dir_.File("containerd-shim-runc-v2"), dir_.File("runc")}));
  EXPECT_TRUE(expansion.warnings.empty());
}

// Byte order, whatever the locale: uppercase before lowercase, '-' (0x2d)
// before '_' (0x5f).
TEST_F(RuntimePatternsTest, SortIsBytewise) {
  for (const char* name : {"b", "B", "a_x", "a-x", "A"}) WriteText(dir_.File(name), "");
  PatternExpansion expansion = Expand({dir_.File("*")});
  EXPECT_EQ(expansion.paths,
            (std::vector<std::string>{dir_.File("A"), dir_.File("B"), dir_.File("a-x"),
                                      dir_.File("a_x"), dir_.File("b")}));
}

TEST_F(RuntimePatternsTest, LiteralPathIsKeptWhetherOrNotItExists) {
  WriteText(dir_.File("runc"), "");
  PatternExpansion expansion = Expand({dir_.File("runc"), dir_.File("crun")});
  EXPECT_EQ(expansion.paths, (std::vector<std::string>{dir_.File("crun"), dir_.File("runc")}));
  EXPECT_TRUE(expansion.warnings.empty());
}

TEST_F(RuntimePatternsTest, GlobMatchingNothingIsAWarningNotAPath) {
  WriteText(dir_.File("runc"), "");
  PatternExpansion expansion =
      Expand({dir_.File("runc"), dir_.File("dockerd*"), dir_.File("nodir/*.toml")});
  EXPECT_EQ(expansion.paths, (std::vector<std::string>{dir_.File("runc")}));
  EXPECT_EQ(expansion.warnings,
            (std::vector<std::string>{
                "runtime pattern " + dir_.File("dockerd*") + " matched no files",
                "runtime pattern " + dir_.File("nodir/*.toml") + " matched no files"}));
}

TEST_F(RuntimePatternsTest, StarDoesNotMatchADotFile) {
  WriteText(dir_.File(".hidden"), "");
  WriteText(dir_.File("shown"), "");
  EXPECT_EQ(Expand({dir_.File("*")}).paths, (std::vector<std::string>{dir_.File("shown")}));
}

TEST_F(RuntimePatternsTest, GlobMatchesDirectoriesToo) {
  // A directory matched by a glob is measured (as unreadable), not hidden.
  ASSERT_EQ(::mkdir(dir_.File("certs.d").c_str(), 0755), 0);
  WriteText(dir_.File("config.toml"), "");
  EXPECT_EQ(Expand({dir_.File("*")}).paths,
            (std::vector<std::string>{dir_.File("certs.d"), dir_.File("config.toml")}));
}

// Regression (issue 10, item 13): a glob match whose name is not UTF-8 was
// only a warning, so a binary named that way was never measured. It is now
// an entry of its own, its name escaped.
TEST_F(RuntimePatternsTest, AnUndecodableNameIsKeptEscapedNotSkipped) {
  WriteText(dir_.File("shim-ok"), "");
  WriteText(dir_.File("shim-\xff"), "");
  WriteText(dir_.File("shim-\xc3("), "");  // a truncated two-byte sequence
  PatternExpansion expansion = Expand({dir_.File("shim-*")});
  EXPECT_EQ(expansion.paths, (std::vector<std::string>{dir_.File("shim-ok")}));
  EXPECT_EQ(expansion.undecodable_paths,
            (std::vector<std::string>{dir_.File("shim-\\xc3("), dir_.File("shim-\\xff")}));
  EXPECT_TRUE(expansion.warnings.empty());
}

TEST_F(RuntimePatternsTest, EscapingIsPrintableAsciiAndOneToOne) {
  EXPECT_EQ(EscapePathBytes("/a b/\xff\x01\\z~"), "/a b/\\xff\\x01\\x5cz~");
  // A name that reads like an escape is escaped again, so no two names
  // share an escaped form.
  EXPECT_NE(EscapePathBytes("/x\\xff"), EscapePathBytes("/x\xff"));
  EXPECT_EQ(EscapePathBytes("/x\\xff"), "/x\\x5cxff");
  EXPECT_EQ(EscapePathBytes("/caf\xc3\xa9"), "/caf\\xc3\\xa9");
}

// A valid name that reads exactly like another name's escaped form would
// otherwise alternate with it as the last entry for one path, adding two
// entries every pass; the unreadable event stands for both.
TEST_F(RuntimePatternsTest, AValidNameEqualToAnEscapedOneIsCoveredByIt) {
  WriteText(dir_.File("shim-\xff"), "");
  WriteText(dir_.File("shim-\\xff"), "");  // the literal 7 characters
  PatternExpansion expansion = Expand({dir_.File("shim-*")});
  EXPECT_TRUE(expansion.paths.empty());
  EXPECT_EQ(expansion.undecodable_paths, (std::vector<std::string>{dir_.File("shim-\\xff")}));
}

TEST_F(RuntimePatternsTest, RelativePatternIsRejectedByName) {
  Result<PatternExpansion> expansion =
      ExpandRuntimePatterns(std::vector<std::string>{"/usr/bin/runc", "bin/containerd*"});
  ASSERT_FALSE(expansion.ok());
  EXPECT_EQ(expansion.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(expansion.error().message,
            "runtime pattern \"bin/containerd*\" is not an absolute path (it must start with /)");
}

TEST_F(RuntimePatternsTest, MalformedPatternsAreRejected) {
  for (const std::string& pattern :
       {std::string(""), std::string("./runc"), std::string("~/runc"),
        std::string("/usr/bin/r\0unc", 14), std::string("/usr/bin/\xc3")}) {
    Status valid = ValidateRuntimePattern(pattern);
    ASSERT_FALSE(valid.ok()) << pattern;
    EXPECT_EQ(valid.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(ValidateRuntimePattern(std::string("/usr/bin/r\0unc", 14)).error().message,
            "runtime pattern \"/usr/bin/r\\x00unc\" contains a NUL byte");
  EXPECT_TRUE(ValidateRuntimePattern("/usr/bin/containerd-shim*").ok());
}

}  // namespace
}  // namespace attest::attestd
