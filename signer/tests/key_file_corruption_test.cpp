// A damaged or tampered key file gives a clear error naming the file (and
// the field where one can be named), never a crash or a wrong key.
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/json.h"
#include "attest/signer/key_file.h"

#include "test_keys.h"

namespace attest::signer {
namespace {

using test::FastOptions;
using test::Passphrase;

constexpr std::string_view kName = "alice.key";

struct KeyFixture {
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate().value();
  std::string text;
};

KeyFixture MakeKeyFile(bool encrypt) {
  KeyFixture fixture;
  auto text = EncodePrivateKeyFile(fixture.key, AsBytes("pw"), FastOptions(encrypt));
  EXPECT_TRUE(text.ok());
  fixture.text = std::string(AsText(text->view()));
  return fixture;
}

Result<Ed25519PrivateKey> Decode(std::string_view text) {
  return DecodePrivateKeyFile(AsBytes(text), kName, Passphrase("pw"));
}

std::string Edit(const std::string& text, const std::function<void(Json&)>& edit) {
  Json document = ParseJsonStrict(text).value();
  edit(document);
  return CanonicalJson(document).value() + "\n";
}

// Flips the low bit of one character of a string member (skipping past
// characters where that would leave the value unchanged in meaning).
std::string FlipChar(const std::string& value, std::size_t at) {
  std::string out = value;
  out[at] = static_cast<char>(out[at] ^ 0x01);
  return out;
}

void ExpectCleanFailure(const Result<Ed25519PrivateKey>& result, std::string_view field) {
  ASSERT_FALSE(result.ok()) << "field " << field;
  const Error& error = result.error();
  EXPECT_TRUE(error.code == ErrorCode::kCorrupt || error.code == ErrorCode::kPermissionDenied)
      << error.ToString();
  EXPECT_NE(error.message.find(kName), std::string::npos) << error.message;
  if (error.code == ErrorCode::kCorrupt) {
    EXPECT_NE(error.message.find(field), std::string::npos) << field << ": " << error.message;
  } else {
    EXPECT_NE(error.message.find("or the file was altered"), std::string::npos) << error.message;
  }
}

TEST(KeyFileCorruptionTest, EachFieldAlteredIsRefused) {
  KeyFixture fixture = MakeKeyFile(true);
  ASSERT_TRUE(Decode(fixture.text).ok());
  struct Case {
    std::string_view field;
    std::function<void(Json&)> edit;
  };
  const Case cases[] = {
      {"version", [](Json& d) { d["version"] = 2; }},
      {"algorithm", [](Json& d) { d["algorithm"] = "ed448"; }},
      {"key_id", [](Json& d) { d["key_id"] = "0000000000000000"; }},
      {"public_key",
       [](Json& d) { d["public_key"] = FlipChar(d["public_key"].get<std::string>(), 3); }},
      {"encryption.kdf", [](Json& d) { d["encryption"]["kdf"] = "scrypt"; }},
      {"encryption.cipher", [](Json& d) { d["encryption"]["cipher"] = "aes256gcm"; }},
      {"encryption.opslimit", [](Json& d) { d["encryption"]["opslimit"] = 2; }},
      {"encryption.memlimit", [](Json& d) { d["encryption"]["memlimit"] = 16384; }},
      {"encryption", [](Json& d) { d["encryption"]["memlimit"] = 1; }},
      {"encryption.salt",
       [](Json& d) {
         d["encryption"]["salt"] = FlipChar(d["encryption"]["salt"].get<std::string>(), 0);
       }},
      {"encryption.nonce",
       [](Json& d) {
         d["encryption"]["nonce"] = FlipChar(d["encryption"]["nonce"].get<std::string>(), 5);
       }},
      {"encryption.nonce", [](Json& d) { d["encryption"]["nonce"] = "AAAA"; }},
      {"secret_key",
       [](Json& d) { d["secret_key"] = FlipChar(d["secret_key"].get<std::string>(), 7); }},
      {"secret_key", [](Json& d) { d["secret_key"] = "AAAA"; }},
      {"secret_key", [](Json& d) { d.erase("secret_key"); }},
      {"encryption", [](Json& d) { d["encryption"] = "none"; }},
      {"comment", [](Json& d) { d["comment"] = "extra"; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    ExpectCleanFailure(Decode(Edit(fixture.text, c.edit)), c.field);
  }
}

TEST(KeyFileCorruptionTest, SwappedPublicKeyIsDetected) {
  auto other = Ed25519PrivateKey::Generate().value();
  auto swap = [&other](Json& d) {
    d["public_key"] = Base64Encode(other.public_key());
    d["key_id"] = KeyIdOf(other.public_key());
  };
  // Encrypted: the header is the AEAD's associated data.
  Result<Ed25519PrivateKey> encrypted = Decode(Edit(MakeKeyFile(true).text, swap));
  ASSERT_FALSE(encrypted.ok());
  EXPECT_EQ(encrypted.error().code, ErrorCode::kPermissionDenied);
  // Unencrypted: the seed's own public key must match.
  Result<Ed25519PrivateKey> plain = Decode(Edit(MakeKeyFile(false).text, swap));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(plain.error().message.find("public_key"), std::string::npos);
}

TEST(KeyFileCorruptionTest, EveryBitFlipIsRefusedOrHarmless) {
  for (bool encrypt : {true, false}) {
    KeyFixture fixture = MakeKeyFile(encrypt);
    for (std::size_t i = 0; i < fixture.text.size(); ++i) {
      std::string damaged = FlipChar(fixture.text, i);
      auto key = Decode(damaged);
      // The one harmless flip: the final newline becomes another whitespace.
      if (key.ok()) {
        EXPECT_EQ(key->public_key(), fixture.key.public_key()) << "offset " << i;
        continue;
      }
      EXPECT_TRUE(key.error().code == ErrorCode::kCorrupt ||
                  key.error().code == ErrorCode::kPermissionDenied)
          << "offset " << i << ": " << key.error().ToString();
    }
  }
}

TEST(KeyFileCorruptionTest, EveryTruncationIsRefused) {
  for (bool encrypt : {true, false}) {
    KeyFixture fixture = MakeKeyFile(encrypt);
    // Dropping only the trailing newline leaves a complete document.
    for (std::size_t size = 0; size + 1 < fixture.text.size(); ++size) {
      auto key = Decode(std::string_view(fixture.text).substr(0, size));
      ASSERT_FALSE(key.ok()) << "size " << size;
      EXPECT_EQ(key.error().code, ErrorCode::kCorrupt) << key.error().ToString();
      EXPECT_NE(key.error().message.find(kName), std::string::npos);
      if (!encrypt) {  // the error never quotes the seed
        std::string seed = ParseJsonStrict(fixture.text).value()["secret_key"];
        for (std::size_t at = 0; at + 6 <= seed.size(); ++at) {
          ASSERT_EQ(key.error().message.find(seed.substr(at, 6)), std::string::npos)
              << key.error().message;
        }
      }
    }
  }
}

}  // namespace
}  // namespace attest::signer
