#include "attest/json.h"

#include <cstdint>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"

namespace attest {
namespace {

std::string Canonical(std::string_view text) {
  auto parsed = ParseJsonStrict(text);
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
  if (!parsed.ok()) return "<parse error>";
  auto canonical = CanonicalJson(*parsed);
  EXPECT_TRUE(canonical.ok()) << canonical.error().ToString();
  return canonical.ok() ? *canonical : "<canonical error>";
}

std::string ParseError(std::string_view text) {
  auto parsed = ParseJsonStrict(text);
  EXPECT_FALSE(parsed.ok()) << "accepted: " << text;
  return parsed.ok() ? "" : parsed.error().message;
}

// RFC 8785 Appendix B samples (IEEE 754 bit patterns), plus a few common
// values. Expected strings were printed by node's Number.prototype.toString,
// the ECMAScript reference the RFC defers to.
struct NumberSample {
  std::uint64_t bits;
  const char* expected;
};
constexpr NumberSample kNumberSamples[] = {
    {0x0000000000000000ULL, "0"},
    {0x8000000000000000ULL, "0"},
    {0x0000000000000001ULL, "5e-324"},
    {0x8000000000000001ULL, "-5e-324"},
    {0x7fefffffffffffffULL, "1.7976931348623157e+308"},
    {0xffefffffffffffffULL, "-1.7976931348623157e+308"},
    {0x4340000000000000ULL, "9007199254740992"},
    {0xc340000000000000ULL, "-9007199254740992"},
    {0x4430000000000000ULL, "295147905179352830000"},
    {0x44b52d02c7e14af5ULL, "9.999999999999997e+22"},
    {0x44b52d02c7e14af6ULL, "1e+23"},
    {0x44b52d02c7e14af7ULL, "1.0000000000000001e+23"},
    {0x444b1ae4d6e2ef4eULL, "999999999999999700000"},
    {0x444b1ae4d6e2ef4fULL, "999999999999999900000"},
    {0x444b1ae4d6e2ef50ULL, "1e+21"},
    {0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7"},
    {0x3eb0c6f7a0b5ed8dULL, "0.000001"},
    {0x41b3de4355555553ULL, "333333333.3333332"},
    {0x41b3de4355555554ULL, "333333333.33333325"},
    {0x41b3de4355555555ULL, "333333333.3333333"},
    {0x41b3de4355555556ULL, "333333333.3333334"},
    {0x41b3de4355555557ULL, "333333333.33333343"},
    {0xbecbf647612f3696ULL, "-0.0000033333333333333333"},
    {0x43143ff3c1cb0959ULL, "1424953923781206.2"},
    {0x3ff0000000000000ULL, "1"},
    {0x3fb999999999999aULL, "0.1"},
    {0x4012000000000000ULL, "4.5"},
    {0x3e7ad7f29abcaf48ULL, "1e-7"},
};

TEST(EcmaScriptNumberTest, MatchesRfc8785Samples) {
  for (const NumberSample& sample : kNumberSamples) {
    double value = 0;
    std::memcpy(&value, &sample.bits, sizeof(value));
    std::string printed;
    AppendEcmaScriptNumber(value, printed);
    EXPECT_EQ(printed, sample.expected) << std::hex << sample.bits;
  }
}

TEST(CanonicalJsonTest, SortsKeysByUtf16CodeUnits) {
  // U+1F600 (a surrogate pair, D83D DE00) sorts before U+E000 in UTF-16 but
  // after it in UTF-8 byte order; expected output printed by node.
  std::string input =
      "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet "
      "With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":"
      "\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\\ue000\":\"Private "
      "Use\"}";
  EXPECT_EQ(HexEncode(AsBytes(Canonical(input))),
            "7b225c72223a2243617272696167652052657475726e222c2231223a224f6e65222c22c280223a2243"
            "6f6e74726f6c222c22c3b6223a224c6174696e20536d616c6c204c6574746572204f20576974682044"
            "6961657265736973222c22e282ac223a224575726f205369676e222c22f09f9880223a22456d6f6a69"
            "3a204772696e6e696e672046616365222c22ee8080223a225072697661746520557365222c22efacb3"
            "223a22486562726577204c65747465722044616c6574205769746820446167657368227d");
}

TEST(CanonicalJsonTest, Rfc8785Example) {
  EXPECT_EQ(Canonical(R"({
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    })"),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(CanonicalJsonTest, IsIdempotent) {
  for (const char* input : {R"({"b":[1,2.5,-0,1e400000000000000000000]})", R"({"a":{}})"}) {
    auto parsed = ParseJsonStrict(input);
    if (!parsed.ok()) continue;  // the first input is rejected: 1e4000... is out of range
    std::string once = Canonical(input);
    EXPECT_EQ(Canonical(once), once);
  }
  std::string nested = Canonical(R"({"z":{"y":[{"b":1,"a":2}]},"a":9007199254740993.0})");
  EXPECT_EQ(nested, R"({"a":9007199254740992,"z":{"y":[{"a":2,"b":1}]}})");
  EXPECT_EQ(Canonical(nested), nested);
}

TEST(StrictJsonTest, RejectsDuplicateKeys) {
  EXPECT_NE(ParseError(R"({"a":1,"a":2})").find("duplicate object key \"a\""), std::string::npos);
  EXPECT_NE(ParseError(R"({"x":{"k":1,"k":1}})").find("duplicate"), std::string::npos);
  // The same key in sibling objects is fine.
  EXPECT_TRUE(ParseJsonStrict(R"([{"a":1},{"a":2}])").ok());
}

TEST(StrictJsonTest, RejectsInvalidUtf8AndLoneSurrogates) {
  EXPECT_FALSE(ParseJsonStrict("{\"a\":\"\xff\"}").ok());
  EXPECT_FALSE(ParseJsonStrict("{\"a\":\"\xc0\xaf\"}").ok());  // overlong '/'
  EXPECT_FALSE(ParseJsonStrict(R"({"a":"\ud800"})").ok());
  EXPECT_FALSE(ParseJsonStrict(R"({"a":"\udc00x"})").ok());
}

TEST(StrictJsonTest, RejectsNumbersADoubleCannotHold) {
  EXPECT_NE(ParseError(R"({"n":9007199254740993})").find("cannot be held exactly"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"n":-9007199254740993})").find("cannot be held exactly"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"n":123456789012345678901234567890})").find("cannot be held"),
            std::string::npos);
  EXPECT_FALSE(ParseJsonStrict(R"({"n":1e400})").ok());
  // Integers a double holds exactly are fine, however large.
  EXPECT_TRUE(ParseJsonStrict(R"({"n":9007199254740992})").ok());
  EXPECT_TRUE(ParseJsonStrict(R"({"n":-9007199254740991})").ok());
  // 2^64 is a double, but RFC 8785 prints it as 18446744073709552000: a
  // document holding the exact digits would not survive canonicalization
  // unchanged, so it is refused; the digits RFC 8785 prints are accepted.
  EXPECT_NE(ParseError("[18446744073709551616]").find("cannot be held"), std::string::npos);
  EXPECT_EQ(Canonical(R"([18446744073709552000, 295147905179352830000])"),
            "[18446744073709552000,295147905179352830000]");
}

TEST(StrictJsonTest, RejectsDeepNesting) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_NE(ParseError(deep).find("nesting deeper than 64"), std::string::npos);
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(ParseJsonStrict(ok).ok());
}

TEST(StrictJsonTest, SyntaxErrorsNameTheOffset) {
  std::string message = ParseError(R"({"a": tru})");
  EXPECT_NE(message.find("at byte"), std::string::npos) << message;
  EXPECT_FALSE(ParseJsonStrict("").ok());
  EXPECT_FALSE(ParseJsonStrict(R"({"a":1} x)").ok());
  EXPECT_FALSE(ParseJsonStrict(R"({"a":1,})").ok());
  EXPECT_FALSE(ParseJsonStrict("{\"a\":1 /* comment */}").ok());
}

TEST(CanonicalJsonTest, RefusesValuesJsonCannotCarry) {
  Json value = Json::object();
  value["nan"] = std::nan("");
  EXPECT_FALSE(CanonicalJson(value).ok());
  Json large = Json::array({std::uint64_t{9007199254740993ULL}});
  EXPECT_FALSE(CanonicalJson(large).ok());
  Json bad_utf8 = Json::array({std::string("\xff")});
  EXPECT_FALSE(CanonicalJson(bad_utf8).ok());
}

}  // namespace
}  // namespace attest
