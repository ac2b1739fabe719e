#include "attest/signer/key_file.h"

#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "attest/file.h"
#include "attest/json.h"
#include "attest/testing/test_support.h"

#include "test_keys.h"

namespace attest::signer {
namespace {

using attest::test::ReadText;
using attest::test::TempDir;
using attest::test::WriteText;
using test::FastOptions;
using test::NoPassphrase;
using test::Passphrase;

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

TEST(KeyFileTest, EncryptedRoundTrip) {
  TempDir dir;
  auto written = WriteNewKey(dir.File("alice"), AsBytes("correct horse"), FastOptions());
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  auto key = LoadPrivateKey(dir.File("alice.key"), Passphrase("correct horse"));
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(key->public_key(), written->key);
  EXPECT_EQ(written->key_id, KeyIdOf(written->key));
  auto pub = LoadPublicKey(dir.File("alice.pub"));
  ASSERT_TRUE(pub.ok()) << pub.error().ToString();
  EXPECT_EQ(pub->key, written->key);
  Ed25519Signature signature = key->Sign(AsBytes("hello"));
  EXPECT_TRUE(Ed25519Verify(pub->key, AsBytes("hello"), signature));
}

TEST(KeyFileTest, KeyFileIs0600AndPublicFiles0644) {
  TempDir dir;
  KeyGenOptions options = FastOptions();
  options.write_pem = true;
  ASSERT_TRUE(WriteNewKey(dir.File("k"), AsBytes("pw"), options).ok());
  EXPECT_EQ(ModeOf(dir.File("k.key")), 0600u);
  EXPECT_EQ(ModeOf(dir.File("k.pub")), 0644u);
  EXPECT_EQ(ModeOf(dir.File("k.pem")), 0644u);
}

TEST(KeyFileTest, FileFormatIsCanonicalJsonWithStoredParameters) {
  TempDir dir;
  ASSERT_TRUE(WriteNewKey(dir.File("k"), AsBytes("pw"), FastOptions()).ok());
  std::string text = ReadText(dir.File("k.key"));
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  auto parsed = ParseJsonStrict(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(CanonicalJson(*parsed).value() + "\n", text);
  EXPECT_EQ((*parsed)["encryption"]["kdf"], "argon2id13");
  EXPECT_EQ((*parsed)["encryption"]["cipher"], "xchacha20poly1305-ietf");
  EXPECT_EQ((*parsed)["encryption"]["opslimit"], kOpslimitMin);
  EXPECT_EQ((*parsed)["encryption"]["memlimit"], kMemlimitMin);
}

TEST(KeyFileTest, RefusesToOverwrite) {
  TempDir dir;
  ASSERT_TRUE(WriteNewKey(dir.File("k"), AsBytes("pw"), FastOptions()).ok());
  std::string before = ReadText(dir.File("k.key"));
  auto again = WriteNewKey(dir.File("k"), AsBytes("pw"), FastOptions());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(again.error().message.find("k.key"), std::string::npos) << again.error().message;
  EXPECT_EQ(ReadText(dir.File("k.key")), before);
}

TEST(KeyFileTest, RefusesWhenOnlyThePublicFileExists) {
  TempDir dir;
  WriteText(dir.File("k.pub"), "not mine");
  auto written = WriteNewKey(dir.File("k"), AsBytes("pw"), FastOptions());
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kAlreadyExists);
  EXPECT_FALSE(PathExists(dir.File("k.key")));
}

TEST(KeyFileTest, WrongPassphraseIsPermissionDenied) {
  TempDir dir;
  ASSERT_TRUE(WriteNewKey(dir.File("k"), AsBytes("right"), FastOptions()).ok());
  auto key = LoadPrivateKey(dir.File("k.key"), Passphrase("wrong"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(key.error().message,
            "wrong passphrase for " + dir.File("k.key") + " (or the file was altered)");
}

TEST(KeyFileTest, UnencryptedKeyNeedsNoPassphrase) {
  TempDir dir;
  auto written = WriteNewKey(dir.File("ci"), {}, FastOptions(false));
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  EXPECT_NE(ReadText(dir.File("ci.key")).find("\"encryption\":null"), std::string::npos);
  auto key = LoadPrivateKey(dir.File("ci.key"), NoPassphrase());
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(key->public_key(), written->key);
}

TEST(KeyFileTest, EncryptedKeyNeedsAPassphrase) {
  TempDir dir;
  auto written = WriteNewKey(dir.File("k"), {}, FastOptions());
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(PathExists(dir.File("k.key")));
}

TEST(KeyFileTest, RefusesAKeyFileOthersCanRead) {
  TempDir dir;
  ASSERT_TRUE(WriteNewKey(dir.File("k"), AsBytes("pw"), FastOptions()).ok());
  ASSERT_EQ(::chmod(dir.File("k.key").c_str(), 0644), 0);
  auto key = LoadPrivateKey(dir.File("k.key"), Passphrase("pw"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(key.error().message.find("chmod 600"), std::string::npos);
}

TEST(KeyFileTest, OutOfRangeCostIsRefusedWhenWriting) {
  auto key = Ed25519PrivateKey::Generate().value();
  KeyGenOptions options = FastOptions();
  options.memlimit = kMaxMemlimit + 1;
  auto text = EncodePrivateKeyFile(key, AsBytes("pw"), options);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidArgument);
}

TEST(KeyFileTest, PassphraseFromFileAndEnvironment) {
  TempDir dir;
  WriteText(dir.File("pass"), "s3cret\n");
  ASSERT_EQ(::chmod(dir.File("pass").c_str(), 0600), 0);
  auto from_file = ReadPassphraseFile(dir.File("pass"));
  ASSERT_TRUE(from_file.ok()) << from_file.error().ToString();
  EXPECT_EQ(AsText(from_file->view()), "s3cret");

  ASSERT_EQ(::chmod(dir.File("pass").c_str(), 0644), 0);
  EXPECT_EQ(ReadPassphraseFile(dir.File("pass")).error().code, ErrorCode::kPermissionDenied);

  WriteText(dir.File("empty"), "\n");
  ASSERT_EQ(::chmod(dir.File("empty").c_str(), 0600), 0);
  EXPECT_EQ(ReadPassphraseFile(dir.File("empty")).error().code, ErrorCode::kInvalidArgument);

  ASSERT_EQ(::setenv("ATTEST_SIGNER_TEST_PASSPHRASE", "from env", 1), 0);
  auto from_env = PassphraseFromEnv("ATTEST_SIGNER_TEST_PASSPHRASE");
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(AsText(from_env->view()), "from env");
  ASSERT_EQ(::unsetenv("ATTEST_SIGNER_TEST_PASSPHRASE"), 0);
  EXPECT_EQ(PassphraseFromEnv("ATTEST_SIGNER_TEST_PASSPHRASE").error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace attest::signer
