#include "attest/ed25519.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"

namespace attest {
namespace {

Bytes Hex(std::string_view hex) { return HexDecode(hex).value(); }

// RFC 8032 §7.1, TEST 1 and TEST 2.
TEST(Ed25519Test, Rfc8032Vectors) {
  struct Vector {
    const char* seed;
    const char* public_key;
    const char* message;
    const char* signature;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
       "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
       "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const Vector& vector : vectors) {
    auto key = Ed25519PrivateKey::FromSeed(Hex(vector.seed));
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(HexEncode(key->public_key()), vector.public_key);
    Bytes message = Hex(vector.message);
    Ed25519Signature signature = key->Sign(message);
    EXPECT_EQ(HexEncode(signature), vector.signature);
    EXPECT_TRUE(Ed25519Verify(key->public_key(), message, signature));
  }
}

TEST(Ed25519Test, RejectsAnyChange) {
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  Bytes message = ToBytes("approve runc 1.1.12");
  Ed25519Signature signature = key->Sign(message);
  EXPECT_TRUE(Ed25519Verify(key->public_key(), message, signature));

  Bytes changed_message = message;
  changed_message.back() ^= 1;
  EXPECT_FALSE(Ed25519Verify(key->public_key(), changed_message, signature));

  Ed25519Signature changed_signature = signature;
  changed_signature[10] ^= 0x20;
  EXPECT_FALSE(Ed25519Verify(key->public_key(), message, changed_signature));

  auto other = Ed25519PrivateKey::Generate();
  EXPECT_FALSE(Ed25519Verify(other->public_key(), message, signature));
  EXPECT_FALSE(Ed25519Verify(key->public_key(), message, ByteView(signature.data(), 63)));
}

TEST(Ed25519Test, FromSeedRejectsWrongLength) {
  EXPECT_FALSE(Ed25519PrivateKey::FromSeed(Bytes(31)).ok());
  EXPECT_FALSE(Ed25519PublicKeyFromBytes(Bytes(33)).ok());
}

// The key id must be what an auditor gets from plain OpenSSL:
// openssl pkey -pubin -inform DER -outform DER | sha256sum.
TEST(Ed25519Test, KeyIdMatchesOpenSslCommandLine) {
  auto key = Ed25519PrivateKey::FromSeed(
      Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key.ok());
  std::string path = ::testing::TempDir() + "/ed25519_spki.der";
  Bytes der = Ed25519SubjectPublicKeyInfo(key->public_key());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(der.data()), static_cast<std::streamsize>(der.size()));
  std::string command = "openssl pkey -pubin -inform DER -in " + path +
                        " -outform DER 2>/dev/null | sha256sum | cut -c1-16";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char output[64] = {};
  ASSERT_NE(std::fgets(output, sizeof(output), pipe), nullptr);
  ::pclose(pipe);
  std::string from_openssl(output);
  from_openssl.erase(from_openssl.find_last_not_of("\n") + 1);
  EXPECT_EQ(KeyIdOf(key->public_key()), from_openssl);
  EXPECT_EQ(KeyIdOf(key->public_key()).size(), 16u);
}

}  // namespace
}  // namespace attest
