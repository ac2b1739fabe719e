#include "attest/encoding.h"

#include <algorithm>
#include <array>
#include <string>

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

// The decoder takes two groups per step and checks the characters once at
// the end: a bad character must be found in any group and at any place in
// it, whatever the input's length (odd and even group counts, with and
// without a padded last group).
TEST(Base64Test, FindsABadCharacterAnywhere) {
  for (std::size_t size : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 47u, 48u, 49u}) {
    Bytes plain(size);
    for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 37 + 11);
    const std::string encoded = Base64Encode(plain);
    ASSERT_EQ(Base64Decode(encoded).value(), plain) << size;
    const std::size_t padding =
        static_cast<std::size_t>(std::count(encoded.begin(), encoded.end(), '='));
    for (std::size_t at = 0; at + padding < encoded.size(); ++at) {
      for (char bad : {'=', '-', '_', ' ', '\n', '\0', '\x80', '\xff'}) {
        std::string altered = encoded;
        altered[at] = bad;
        EXPECT_FALSE(Base64Decode(altered).ok()) << size << " " << at << " " << int(bad);
      }
    }
  }
}

TEST(Base64Test, EveryAlphabetCharacterDecodesToItsValue) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // 64 characters: 16 groups, 48 bytes, the 6-bit values 0..63 in order.
  Bytes decoded = Base64Decode(alphabet).value();
  ASSERT_EQ(decoded.size(), 48u);
  for (std::size_t i = 0; i < 64; ++i) {
    const std::size_t bit = i * 6;
    const unsigned pair = (unsigned{decoded[bit / 8]} << 8) |
                          (bit / 8 + 1 < decoded.size() ? decoded[bit / 8 + 1] : 0u);
    EXPECT_EQ((pair >> (10 - bit % 8)) & 0x3f, i) << alphabet[i];
  }
  EXPECT_EQ(Base64Encode(decoded), alphabet);
}

TEST(Base64Test, PaddingRules) {
  EXPECT_EQ(Base64Decode("/w==").value(), Bytes({0xff}));
  EXPECT_EQ(Base64Decode("//8=").value(), Bytes({0xff, 0xff}));
  EXPECT_EQ(Base64Decode("////").value(), Bytes({0xff, 0xff, 0xff}));
  // Every non-zero pattern of the bits under the padding is refused.
  for (char last : std::string_view("BCDEFGHIJKLMNOPRSTUVWXYZ")) {
    EXPECT_FALSE(Base64Decode(std::string("Z") + last + "==").ok()) << last;
  }
  for (char last : std::string_view("BCDFGHJKLNOPRSTV")) {
    EXPECT_FALSE(Base64Decode(std::string("Zm") + last + "=").ok()) << last;
  }
  EXPECT_TRUE(Base64Decode("ZQ==").ok());  // 'Q': 010000, hidden bits zero
  EXPECT_TRUE(Base64Decode("Zm8=").ok());
  EXPECT_FALSE(Base64Decode("====").ok());
  EXPECT_FALSE(Base64Decode("Zg==Zm9v").ok());  // padding, then more groups
  EXPECT_FALSE(Base64Decode("Zm9vZg=").ok());   // length not a multiple of 4
  EXPECT_FALSE(Base64Decode("=Zm9").ok());
}

TEST(Base64Test, DecodesIntoACallersBufferOfExactlyTheRightSize) {
  EXPECT_EQ(Base64DecodedSize(""), 0u);
  EXPECT_EQ(Base64DecodedSize("Zm9vYg=="), 4u);
  EXPECT_EQ(Base64DecodedSize("Zm9vYmE="), 5u);
  EXPECT_EQ(Base64DecodedSize("Zm9vYmFy"), 6u);
  EXPECT_FALSE(Base64DecodedSize("Zm9vY"));
  std::array<std::uint8_t, 5> out{};
  ASSERT_TRUE(Base64DecodeInto("Zm9vYmE=", out).ok());
  EXPECT_EQ(AsText(out), "fooba");
  std::array<std::uint8_t, 6> too_big{};
  EXPECT_FALSE(Base64DecodeInto("Zm9vYmE=", too_big).ok());
  std::array<std::uint8_t, 4> too_small{};
  EXPECT_FALSE(Base64DecodeInto("Zm9vYmE=", too_small).ok());
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
