// DecodeTarget: the request target as handlers see it.
#include "target.h"

#include <gtest/gtest.h>

namespace attest::http {
namespace {

TEST(DecodeTarget, DecodesPathAndQueryInOrder) {
  auto decoded = DecodeTarget("/v1/nodes/a%3Bb%20c?state=ok&x=1+2&x=%26&flag&=v&s=%2F&");
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(decoded->path, "/v1/nodes/a;b c");
  std::vector<std::pair<std::string, std::string>> expected = {
      {"state", "ok"}, {"x", "1 2"}, {"x", "&"}, {"flag", ""}, {"", "v"}, {"s", "/"}};
  EXPECT_EQ(decoded->query, expected);
}

TEST(DecodeTarget, PlusIsASpaceOnlyInTheQuery) {
  auto decoded = DecodeTarget("/a+b?c+d=e+f");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->path, "/a+b");
  ASSERT_EQ(decoded->query.size(), 1u);
  EXPECT_EQ(decoded->query[0].first, "c d");
  EXPECT_EQ(decoded->query[0].second, "e f");
}

// /v1%2Ftokens must not reach a router as /v1/tokens: an escaped slash in
// the path is refused, in either case, wherever it is.
TEST(DecodeTarget, RejectsAnEscapedSlashInThePath) {
  for (const char* target : {"/v1%2Ftokens", "/v1%2ftokens", "/%2F", "/v1/nodes/a%2F..%2Fb",
                             "/v1/tokens%2F", "/v1/%2F?x=1"}) {
    auto decoded = DecodeTarget(target);
    ASSERT_FALSE(decoded.ok()) << target << " decoded to " << decoded->path;
    EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument);
  }
  auto offset = DecodeTarget("/v1%2Ftokens");
  ASSERT_FALSE(offset.ok());
  EXPECT_NE(offset.error().message.find("'/' at offset 3"), std::string::npos)
      << offset.error().message;
}

TEST(DecodeTarget, RejectsMalformedEscapesNulAndNonOriginForm) {
  struct Case {
    const char* target;
    const char* offset;  // where the message must point
  };
  for (Case c : {Case{"/%", "offset 1"}, Case{"/ab%4", "offset 3"}, Case{"/%g1", "offset 1"},
                 Case{"/%1g", "offset 1"}, Case{"/a%00", "offset 2"}, Case{"/?a=%zz", "offset 4"},
                 Case{"/?a=1&%0", "offset 6"}}) {
    auto decoded = DecodeTarget(c.target);
    ASSERT_FALSE(decoded.ok()) << c.target;
    EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(decoded.error().message.find(c.offset), std::string::npos)
        << c.target << ": " << decoded.error().message;
  }
  EXPECT_FALSE(DecodeTarget(std::string_view("/a\0b", 4)).ok());
  EXPECT_FALSE(DecodeTarget("http://example.com/").ok());
  EXPECT_FALSE(DecodeTarget("*").ok());
  EXPECT_FALSE(DecodeTarget("").ok());
}

}  // namespace
}  // namespace attest::http
