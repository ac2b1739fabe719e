// Key files are read only in guarded memory (FORMAT.md §1.1): the parser
// copies no value out of the guarded text, and decoding an unencrypted key
// leaves no copy of its seed's base64 anywhere in the process's memory.
#include "src/key_file_parse.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/json.h"
#include "attest/signer/key_file.h"
#include "attest/testing/test_support.h"

#include "test_keys.h"

namespace attest::signer {
namespace {

using attest::test::TempDir;
using internal::KeyFileValue;
using internal::ParseKeyFileJson;
using test::FastOptions;
using test::NoPassphrase;

constexpr std::uint8_t kMask = 0x5a;
constexpr std::string_view kSecretMember = "\"secret_key\":\"";

bool Within(ByteView part, ByteView whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

TEST(KeyFileParseTest, ValuesAreViewsIntoTheGuardedText) {
  auto key = Ed25519PrivateKey::Generate().value();
  for (bool encrypt : {false, true}) {
    SCOPED_TRACE(encrypt ? "encrypted" : "unencrypted");
    SecretBytes text = EncodePrivateKeyFile(key, AsBytes("pw"), FastOptions(encrypt)).value();
    auto parsed = ParseKeyFileJson(text.view(), "k.key");
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    ASSERT_EQ(parsed->type, KeyFileValue::Type::kObject);
    std::size_t strings = 0;
    for (const internal::KeyFileMember& member : parsed->members) {
      std::vector<const KeyFileValue*> values = {&member.value};
      for (const internal::KeyFileMember& inner : member.value.members) {
        values.push_back(&inner.value);
      }
      for (const KeyFileValue* value : values) {
        if (value->type != KeyFileValue::Type::kString) continue;
        ++strings;
        EXPECT_TRUE(Within(value->text, text.view())) << member.name;
      }
    }
    EXPECT_EQ(strings, encrypt ? 8u : 4u);  // algorithm, key_id, public_key, secret_key (+4)
  }
}

TEST(KeyFileParseTest, AnyWhitespaceAndMemberOrderIsAccepted) {
  auto key = Ed25519PrivateKey::Generate().value();
  SecretBytes text = EncodePrivateKeyFile(key, {}, FastOptions(false)).value();
  // A test key: its text may pass through nlohmann here.
  Json document = ParseJsonStrict(AsText(text.view())).value();
  std::string reordered =
      "\r\n{ \"version\" :\t1,\n  \"secret_key\": " + document["secret_key"].dump() +
      ", \"public_key\":" + document["public_key"].dump() +
      ",\"key_id\":" + document["key_id"].dump() +
      " , \"encryption\" : null , \"algorithm\":\"ed25519\"}\n\n";
  auto decoded = DecodePrivateKeyFile(AsBytes(reordered), "k.key", NoPassphrase());
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(decoded->public_key(), key.public_key());
}

TEST(KeyFileParseTest, WhatKeyFilesNeverContainIsRefusedByOffset) {
  struct Case {
    std::string_view text;
    std::string_view says;
  };
  const Case cases[] = {
      {"", "does not start with a JSON object at byte 0"},
      {"[]", "does not start with a JSON object at byte 0"},
      {"{\"a\":\"x\\u0041\"}", "an escape sequence (key files use none) at byte 7"},
      {"{\"a\":\"\xc3\xa9\"}", "not printable ASCII in a string at byte 6"},
      {"{\"a\":\"x\ty\"}", "not printable ASCII in a string at byte 7"},
      {"{\"a\":1,\"a\":2}", "member \"a\" repeated at byte 7"},
      {"{\"a\":{\"b\":{}}}", "an object nested too deep at byte 10"},
      {"{\"a\":01}", "a number with a leading zero at byte 5"},
      {"{\"a\":-1}", "a negative number at byte 5"},
      {"{\"a\":1.0}", "a number that is not an integer at byte 6"},
      {"{\"a\":1e3}", "a number that is not an integer at byte 6"},
      {"{\"a\":9007199254740993}", "a number larger than 2^53 at byte 20"},
      {"{\"a\":true}", "an unexpected character where a value belongs at byte 5"},
      {"{\"A\":1}", "a member name this format does not have at byte 1"},
      {"{\"a\":1}x", "text after the JSON object at byte 7"},
      {"{\"a\":1", "',' or '}' expected after a member at byte 6"},
      {"{\"a\":\"abc", "an unterminated string at byte 9"},
      {"{\"a\" 1}", "':' expected after a member name at byte 5"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseKeyFileJson(AsBytes(c.text), "k.key");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
    EXPECT_EQ(parsed.error().message.rfind("k.key: not a key file (", 0), 0u)
        << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(c.says), std::string::npos)
        << c.text << ": " << parsed.error().message;
  }
  auto exact = ParseKeyFileJson(AsBytes("{\"a\":9007199254740992,\"b\":{}}"), "k.key");
  ASSERT_TRUE(exact.ok()) << exact.error().ToString();
  EXPECT_EQ(exact->members[0].value.integer, std::uint64_t{1} << 53);
}

// Counts the places in the process's readable and writable memory where
// `masked` (the pattern, each byte XORed with kMask, so the pattern itself
// is nowhere in memory) occurs. /proc/self/mem reads fail cleanly where a
// plain read would fault; huge reservations (sanitizer shadow) are skipped.
std::size_t OccurrencesInMemory(const std::vector<std::uint8_t>& masked) {
  std::ifstream maps("/proc/self/maps");
  int memory = ::open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(memory, 0);
  std::size_t found = 0;
  std::vector<std::uint8_t> chunk(std::size_t{1} << 20);
  const auto first = static_cast<std::uint8_t>(masked[0] ^ kMask);
  std::string line;
  while (std::getline(maps, line)) {
    // "start-end perms ...", addresses in hex.
    std::istringstream fields(line);
    unsigned long start = 0;
    unsigned long end = 0;
    char dash = 0;
    std::string perms;
    if (!(fields >> std::hex >> start >> dash >> end >> perms) || dash != '-') continue;
    if (!perms.starts_with("rw") || end - start > (std::size_t{256} << 20)) continue;
    for (unsigned long at = start; at < end; at += chunk.size() - masked.size()) {
      std::size_t want = std::min<std::size_t>(chunk.size(), end - at);
      ssize_t got = ::pread(memory, chunk.data(), want, static_cast<off_t>(at));
      if (got <= 0) break;
      auto size = static_cast<std::size_t>(got);
      const std::uint8_t* p = chunk.data();
      const std::uint8_t* stop = chunk.data() + size;
      while (stop - p >= static_cast<std::ptrdiff_t>(masked.size())) {
        p = static_cast<const std::uint8_t*>(std::memchr(p, first, stop - p - masked.size() + 1));
        if (p == nullptr) break;
        bool match = true;
        for (std::size_t i = 1; i < masked.size() && match; ++i) {
          match = (p[i] ^ kMask) == masked[i];
        }
        found += match ? 1 : 0;
        ++p;
      }
      if (size < want || at + size >= end) break;
    }
  }
  ::close(memory);
  return found;
}

// The general JSON parser kept the key file's text, seed included, in a
// thread-local simdjson buffer (and freed nlohmann strings) outside guarded
// memory.
TEST(KeyFileParseTest, LoadingAKeyLeavesNoCopyOfItsSeedOutsideGuardedMemory) {
  TempDir dir;
  std::vector<std::uint8_t> masked;
  {
    auto key = Ed25519PrivateKey::Generate().value();
    SecretBytes text = EncodePrivateKeyFile(key, {}, FastOptions(false)).value();
    std::string_view view = AsText(text.view());
    std::size_t at = view.find(kSecretMember);
    ASSERT_NE(at, std::string_view::npos);
    at += kSecretMember.size();
    for (std::size_t i = at; i < at + 44; ++i) {
      masked.push_back(static_cast<std::uint8_t>(text.data()[i] ^ kMask));
    }
    ASSERT_TRUE(CreateSecretFile(dir.File("k.key"), text.view()).ok());
  }  // the guarded text is wiped here
  ASSERT_EQ(OccurrencesInMemory(masked), 0u) << "the test itself left a copy";

  auto loaded = LoadPrivateKey(dir.File("k.key"), NoPassphrase());
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(OccurrencesInMemory(masked), 0u);

  // The scan does find a copy where one is: through the general JSON parser.
  std::string plain = attest::test::ReadText(dir.File("k.key"));
  EXPECT_GE(OccurrencesInMemory(masked), 1u);
  std::fill(plain.begin(), plain.end(), '\0');
}

}  // namespace
}  // namespace attest::signer
