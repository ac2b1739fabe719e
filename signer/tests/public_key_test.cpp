#include "attest/signer/public_key.h"

#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/sha256.h"
#include "attest/signer/envelope.h"
#include "attest/signer/key_file.h"
#include "attest/testing/test_support.h"

#include "test_keys.h"

namespace attest::signer {
namespace {

using attest::test::RunCommand;
using attest::test::TempDir;
using attest::test::WriteText;

void WriteBytes(const std::string& path, ByteView bytes) {
  ASSERT_TRUE(WriteFileAtomically(path, AsText(bytes), 0644).ok()) << path;
}

TEST(PublicKeyTest, JsonAndPemRoundTrip) {
  auto key = Ed25519PrivateKey::Generate().value();
  for (const std::string& text :
       {EncodePublicKeyJson(key.public_key()), EncodePublicKeyPem(key.public_key())}) {
    auto parsed = ParsePublicKey(text, "k");
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    EXPECT_EQ(parsed->key, key.public_key());
    EXPECT_EQ(parsed->key_id, KeyIdOf(key.public_key()));
  }
}

TEST(PublicKeyTest, KeyIdMismatchInPubFileIsCorrupt) {
  auto key = Ed25519PrivateKey::Generate().value();
  Json document = ParseJsonStrict(EncodePublicKeyJson(key.public_key())).value();
  document["key_id"] = "0123456789abcdef";
  auto parsed = ParsePublicKey(CanonicalJson(document).value(), "k.pub");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(parsed.error().message.find("k.pub: key_id"), std::string::npos)
      << parsed.error().message;
}

TEST(PublicKeyTest, PemOfAnotherAlgorithmIsRefused) {
  // An X25519 SPKI (OID 1.3.101.110) of the same length.
  Bytes der = Ed25519SubjectPublicKeyInfo(Ed25519PublicKey{});
  der[8] = 0x6e;
  std::string pem =
      "-----BEGIN PUBLIC KEY-----\n" + Base64Encode(der) + "\n-----END PUBLIC KEY-----\n";
  auto parsed = ParsePublicKey(pem, "x.pem");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
}

TEST(PublicKeyTest, TrustedKeysFromFileAndDirectory) {
  TempDir dir;
  KeyGenOptions options = test::FastOptions();
  options.write_pem = true;
  auto alice = WriteNewKey(dir.File("alice"), AsBytes("pw"), options).value();
  auto bob = WriteNewKey(dir.File("bob"), AsBytes("pw"), test::FastOptions()).value();
  WriteText(dir.File("README.txt"), "not a key");

  auto one = LoadTrustedKeys(dir.File("bob.pub"));
  ASSERT_TRUE(one.ok()) << one.error().ToString();
  EXPECT_EQ(one->size(), 1u);
  EXPECT_TRUE(one->Contains(bob.key));
  EXPECT_FALSE(one->Contains(alice.key));

  auto all = LoadTrustedKeys(dir.path());
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  EXPECT_EQ(all->size(), 2u);  // alice.pub and alice.pem name one key
  EXPECT_TRUE(all->Contains(alice.key));
  EXPECT_TRUE(all->Contains(bob.key));

  TempDir empty;
  auto none = LoadTrustedKeys(empty.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
}

// The auditor's recipe of ledger/FORMAT.md §4: the key id from the PEM.
TEST(PublicKeyTest, OpensslComputesTheSameKeyId) {
  TempDir dir;
  auto key = Ed25519PrivateKey::Generate().value();
  WriteText(dir.File("k.pem"), EncodePublicKeyPem(key.public_key()));
  auto result = RunCommand({"openssl", "pkey", "-pubin", "-in", dir.File("k.pem"), "-outform",
                            "DER", "-out", dir.File("k.der")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::string der = attest::test::ReadText(dir.File("k.der"));
  EXPECT_EQ(HexEncode(Sha256Of(AsBytes(der))).substr(0, 16), KeyIdOf(key.public_key()));
}

// The auditor's check of FORMAT.md §2.3: openssl verifies an envelope's
// signature over the rebuilt message with the exported PEM.
TEST(PublicKeyTest, OpensslVerifiesAnEnvelopeSignature) {
  TempDir dir;
  KeyGenOptions options = test::FastOptions();
  options.write_pem = true;
  ASSERT_TRUE(WriteNewKey(dir.File("k"), AsBytes("pw"), options).ok());
  auto key = LoadPrivateKey(dir.File("k.key"), test::Passphrase("pw")).value();
  WriteText(dir.File("app.bin"), "release 1.2.3\n");
  auto envelope = SignFile(dir.File("app.bin"), key, Purpose::kArtifact, "ok'd by QA",
                           TimePoint(std::chrono::seconds(1795000000)));
  ASSERT_TRUE(envelope.ok()) << envelope.error().ToString();
  WriteBytes(dir.File("msg"), SignedMessage(*envelope).value());
  WriteBytes(dir.File("sig"), envelope->signature);

  std::vector<std::string> verify = {"openssl",       "pkeyutl",         "-verify",      "-pubin",
                                     "-inkey",        dir.File("k.pem"), "-rawin",       "-in",
                                     dir.File("msg"), "-sigfile",        dir.File("sig")};
  auto good = RunCommand(verify);
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("Signature Verified Successfully"), std::string::npos) << good.out;

  WriteText(dir.File("msg"), "DSSEv1 something else");
  auto bad = RunCommand(verify);
  EXPECT_NE(bad.exit_code, 0) << bad.out;
}

}  // namespace
}  // namespace attest::signer
