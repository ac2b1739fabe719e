#include "attest/flags.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace attest {
namespace {

const FlagSpec kSpecs[] = {
    {"db", "PATH", "the database"},
    {"json", "", "print JSON"},
};

Result<ParsedFlags> Parse(std::vector<std::string> args) { return ParseFlags(args, kSpecs); }

TEST(FlagsTest, ValuesBooleansAndPositionals) {
  auto flags = Parse({"--db", "a.db", "7", "--json", "--", "--not-a-flag"});
  ASSERT_TRUE(flags.ok()) << flags.error().ToString();
  EXPECT_EQ(flags->Value("db"), "a.db");
  EXPECT_TRUE(flags->Has("json"));
  EXPECT_EQ(flags->positional(), (std::vector<std::string>{"7", "--not-a-flag"}));
  EXPECT_EQ(Parse({"--db=b.db"})->Value("db"), "b.db");
  EXPECT_TRUE(Parse({"-h"})->help());
}

TEST(FlagsTest, ErrorsNameTheFlag) {
  auto unknown = Parse({"--dbx", "a"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "unknown option --dbx");
  auto missing = Parse({"--db"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "option --db needs a value (PATH)");
  EXPECT_FALSE(Parse({"--db", "a", "--db", "b"}).ok());
  EXPECT_FALSE(Parse({"--json=yes"}).ok());
}

TEST(FlagsTest, ParseUnsigned) {
  EXPECT_EQ(*ParseUnsigned("42", "SEQ"), 42u);
  EXPECT_FALSE(ParseUnsigned("-1", "SEQ").ok());
  EXPECT_FALSE(ParseUnsigned("4x", "SEQ").ok());
  EXPECT_FALSE(ParseUnsigned("", "SEQ").ok());
  EXPECT_FALSE(ParseUnsigned("99999999999999999999999", "SEQ").ok());
}

}  // namespace
}  // namespace attest
