#include "attest/encoding.h"

#include <gtest/gtest.h>

#include "attest/bytes.h"
#include "attest/dsse.h"
#include "attest/utf8.h"

namespace attest {
namespace {

TEST(HexTest, RoundTripsAndRejectsGarbage) {
  Bytes bytes = {0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(HexEncode(bytes), "007f80ff");
  EXPECT_EQ(*HexDecode("007F80ff"), bytes);
  EXPECT_FALSE(HexDecode("abc").ok());
  auto bad = HexDecode("00zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("offset 2"), std::string::npos);
}

TEST(Base64Test, Rfc4648Vectors) {
  // RFC 4648 §10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(AsText(*decoded), plain);
  }
}

TEST(Base64Test, IsStrict) {
  EXPECT_FALSE(Base64Decode("Zg").ok());        // missing padding
  EXPECT_FALSE(Base64Decode("Zh==").ok());      // non-zero padding bits
  EXPECT_FALSE(Base64Decode("Zm9v\n").ok());    // whitespace
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());     // garbage
  EXPECT_FALSE(Base64Decode("Zm9v_-==").ok());  // URL alphabet
  EXPECT_FALSE(Base64Decode("Zm=v").ok());      // padding inside
  EXPECT_FALSE(Base64Decode("Zm9v====").ok());  // a group of padding only
  EXPECT_FALSE(Base64Decode("Z===").ok());      // three padding characters
  EXPECT_FALSE(Base64Decode("Zm9=").ok());      // non-zero bits under one '='
  EXPECT_TRUE(Base64Decode("").ok());
}

TEST(Utf8Test, FindsTheFirstBadByte) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_EQ(FindInvalidUtf8("ab\xff"), 2u);
  EXPECT_EQ(FindInvalidUtf8("a\xc0\x80"), 1u);         // overlong NUL
  EXPECT_EQ(FindInvalidUtf8("\xed\xa0\x80"), 0u);      // UTF-16 surrogate
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("ok\xe2\x82"), 2u);        // truncated
  EXPECT_TRUE(HasControlCharacter("a\tb"));
  EXPECT_TRUE(HasControlCharacter("a\x7f"));
  EXPECT_FALSE(HasControlCharacter("a b"));
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  Bytes a = {1, 2, 3};
  Bytes b = {1, 2, 3};
  Bytes c = {1, 2, 4};
  Bytes d = {1, 2};
  EXPECT_TRUE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, c));
  EXPECT_FALSE(ConstantTimeEquals(a, d));
  EXPECT_TRUE(ConstantTimeEquals({}, {}));
}

TEST(DsseTest, MatchesTheSpecExample) {
  // The DSSE protocol document's worked example.
  Bytes encoded = DssePreAuthEncoding("http://example.com/HelloWorld", AsBytes("hello world"));
  EXPECT_EQ(AsText(encoded), "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

}  // namespace
}  // namespace attest
