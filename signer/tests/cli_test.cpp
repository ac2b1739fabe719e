// The `signer` CLI in-process: keys, sign/verify round trips, every
// verdict, directory trees, the ledger commands, and exit codes 0/1/2 with
// errors that name the file and say what to do.
#include "cli/cli.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/ledger/ledger.h"
#include "attest/signer/public_key.h"
#include "attest/testing/test_support.h"

namespace attest::signer {
namespace {

using attest::test::ReadText;
using attest::test::TempDir;
using attest::test::WriteText;

// The text must (or must not) contain the part; failures print the text.
#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)
#define EXPECT_LACKS(text, part) EXPECT_EQ((text).find(part), std::string::npos) << (text)

struct Output {
  int code;
  std::string out;
  std::string err;
};

Output RunCli(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = cli::Run(args, out, err);
  return {code, out.str(), err.str()};
}

constexpr const char* kPassphraseVariable = "SIGNER_CLI_TEST_PASSPHRASE";

class SignerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("ATTEST_SIGNER_INSECURE_FAST_KDF", "1", 1);
    ::setenv(kPassphraseVariable, "correct horse", 1);
    WriteText(File("pass"), "correct horse\n");
    ::chmod(File("pass").c_str(), 0600);
  }
  void TearDown() override {
    ::unsetenv("ATTEST_SIGNER_INSECURE_FAST_KDF");
    ::unsetenv(kPassphraseVariable);
  }
  std::string File(const std::string& name) const { return dir_.File(name); }

  // An encrypted key NAME.key / NAME.pub whose passphrase is in File("pass").
  void Keygen(const std::string& name) {
    Output made = RunCli({"keygen", "--out", File(name), "--passphrase-file", File("pass")});
    ASSERT_EQ(made.code, 0) << made.err;
  }
  Output Sign(const std::string& file, const std::string& key, const std::string& purpose) {
    return RunCli({"sign", File(file), "--key", File(key + ".key"), "--purpose", purpose,
                   "--passphrase-file", File("pass")});
  }
  Output Verify(const std::string& file, const std::string& trusted,
                std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify",    File(file),   "--sig", File(file + ".sig.json"),
                                     "--trusted", File(trusted)};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args);
  }

  TempDir dir_{"signer_cli"};
};

TEST_F(SignerCliTest, KeygenWritesPrivateKeyFilePublicKeyAndPem) {
  Output made =
      RunCli({"keygen", "--out", File("admin"), "--pem", "--passphrase-file", File("pass")});
  ASSERT_EQ(made.code, 0) << made.err;
  std::string key_id = LoadPublicKey(File("admin.pub")).value().key_id;
  EXPECT_CONTAINS(made.out, "key id: " + key_id);
  EXPECT_EQ(LoadPublicKey(File("admin.pem")).value().key_id, key_id);
  struct stat info {};
  ASSERT_EQ(::stat(File("admin.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_CONTAINS(ReadText(File("admin.key")), "argon2id13");
  EXPECT_LACKS(ReadText(File("admin.key")), "correct horse");

  // Never over an existing key.
  Output again = RunCli({"keygen", "--out", File("admin"), "--passphrase-file", File("pass")});
  EXPECT_EQ(again.code, 2);
  EXPECT_CONTAINS(again.err, "admin");
}

TEST_F(SignerCliTest, KeygenAndSignWithPassphraseFromANamedVariable) {
  ASSERT_EQ(RunCli({"keygen", "--out", File("ci"), "--passphrase-env", kPassphraseVariable}).code,
            0);
  WriteText(File("app.bin"), "payload");
  Output signed_file = RunCli({"sign", File("app.bin"), "--key", File("ci.key"), "--purpose",
                               "artifact", "--passphrase-env", kPassphraseVariable});
  EXPECT_EQ(signed_file.code, 0) << signed_file.err;

  Output unset = RunCli({"sign", File("app.bin"), "--key", File("ci.key"), "--purpose", "artifact",
                         "--force", "--passphrase-env", "SIGNER_CLI_TEST_UNSET"});
  EXPECT_EQ(unset.code, 2);
  EXPECT_CONTAINS(unset.err, "SIGNER_CLI_TEST_UNSET");
}

TEST_F(SignerCliTest, UnencryptedKeyWarnsAndNeedsNoPassphrase) {
  Output made = RunCli({"keygen", "--out", File("ci"), "--unencrypted"});
  ASSERT_EQ(made.code, 0) << made.err;
  EXPECT_CONTAINS(made.err, "for CI keys only");
  EXPECT_CONTAINS(ReadText(File("ci.key")), "\"encryption\":null");
  WriteText(File("app.bin"), "payload");
  Output signed_file =
      RunCli({"sign", File("app.bin"), "--key", File("ci.key"), "--purpose", "artifact"});
  EXPECT_EQ(signed_file.code, 0) << signed_file.err;

  Output contradictory =
      RunCli({"keygen", "--out", File("x"), "--unencrypted", "--passphrase-file", File("pass")});
  EXPECT_EQ(contradictory.code, 2);
  EXPECT_FALSE(PathExists(File("x.key")));
}

TEST_F(SignerCliTest, SignThenVerifyRoundTrip) {
  Keygen("admin");
  WriteText(File("a.conf"), "a = 1\n");
  WriteText(File("b.conf"), "b = 2\n");
  Output signed_files =
      RunCli({"sign", File("a.conf"), File("b.conf"), "--key", File("admin.key"), "--purpose",
              "config", "--comment", "CR-42", "--passphrase-file", File("pass")});
  ASSERT_EQ(signed_files.code, 0) << signed_files.err;
  std::string key_id = LoadPublicKey(File("admin.pub")).value().key_id;
  EXPECT_CONTAINS(signed_files.out, "key id: " + key_id);
  EXPECT_CONTAINS(signed_files.out, File("b.conf") + ".sig.json");
  EXPECT_CONTAINS(ReadText(File("a.conf.sig.json")), "\"comment\":\"CR-42\"");

  for (const char* file : {"a.conf", "b.conf"}) {
    Output verified = Verify(file, "admin.pub", {"--purpose", "config"});
    EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
    EXPECT_CONTAINS(verified.out, "valid");
    EXPECT_CONTAINS(verified.out, key_id);
  }
  // A directory of trusted keys works too.
  EXPECT_EQ(Verify("a.conf", "", {"--purpose", "config"}).code, 0);

  // Never over an existing envelope without --force, and then nothing is signed.
  Output again = Sign("a.conf", "admin", "config");
  EXPECT_EQ(again.code, 2);
  EXPECT_CONTAINS(again.err, File("a.conf.sig.json") + " already exists");
  EXPECT_CONTAINS(again.err, "--force");
  EXPECT_EQ(RunCli({"sign", File("a.conf"), "--key", File("admin.key"), "--purpose", "policy",
                    "--force", "--passphrase-file", File("pass")})
                .code,
            0);
  EXPECT_EQ(Verify("a.conf", "admin.pub", {"--purpose", "policy"}).code, 0);
}

TEST_F(SignerCliTest, EachFailureIsExitOneNamingTheReason) {
  Keygen("admin");
  Keygen("stranger");
  ::mkdir(File("strangers").c_str(), 0755);
  ASSERT_EQ(::rename(File("stranger.pub").c_str(), File("strangers/stranger.pub").c_str()), 0);
  WriteText(File("app.bin"), "version 1");
  ASSERT_EQ(Sign("app.bin", "admin", "artifact").code, 0);

  Output untrusted = Verify("app.bin", "strangers", {"--purpose", "artifact"});
  EXPECT_EQ(untrusted.code, 1);
  EXPECT_CONTAINS(untrusted.out, "untrusted_key");

  Output wrong_purpose = Verify("app.bin", "admin.pub", {"--purpose", "policy"});
  EXPECT_EQ(wrong_purpose.code, 1);
  EXPECT_CONTAINS(wrong_purpose.out, "wrong_purpose");

  WriteText(File("app.bin"), "version 2");
  Output changed = Verify("app.bin", "admin.pub", {"--purpose", "artifact"});
  EXPECT_EQ(changed.code, 1);
  EXPECT_CONTAINS(changed.out, "file_changed");

  // Re-sign, then alter a signed member of the envelope.
  ASSERT_EQ(RunCli({"sign", File("app.bin"), "--key", File("admin.key"), "--purpose", "artifact",
                    "--force", "--passphrase-file", File("pass")})
                .code,
            0);
  std::string envelope = ReadText(File("app.bin.sig.json"));
  std::size_t purpose = envelope.find("\"purpose\":\"artifact\"");
  ASSERT_NE(purpose, std::string::npos);
  envelope.replace(purpose, 20, "\"purpose\":\"policy\"");
  WriteText(File("app.bin.sig.json"), envelope);
  Output forged = Verify("app.bin", "admin.pub", {"--purpose", "artifact"});
  EXPECT_EQ(forged.code, 1);
  EXPECT_CONTAINS(forged.out, "bad_signature");
}

// A config signature used to verify wherever --purpose was left out.
TEST_F(SignerCliTest, VerifyWithoutPurposeIsRefused) {
  Keygen("admin");
  WriteText(File("app.conf"), "debug = true\n");
  ASSERT_EQ(Sign("app.conf", "admin", "config").code, 0);
  for (const char* command : {"verify", "verify-dir"}) {
    Output missing = RunCli({command, File("app.conf"), "--sig", File("app.conf.sig.json"),
                             "--trusted", File("admin.pub")});
    EXPECT_EQ(missing.code, 2) << command;
    EXPECT_CONTAINS(missing.err, "--purpose is required");
    EXPECT_LACKS(missing.out, "valid");
  }
  EXPECT_EQ(Verify("app.conf", "admin.pub", {"--purpose", "artifact"}).code, 1);
  EXPECT_EQ(Verify("app.conf", "admin.pub", {"--purpose", "config"}).code, 0);
}

TEST_F(SignerCliTest, VersionOneEnvelopeIsExitTwoSayingToReSign) {
  Keygen("admin");
  WriteText(File("app.bin"), "x");
  ASSERT_EQ(Sign("app.bin", "admin", "artifact").code, 0);
  std::string envelope = ReadText(File("app.bin.sig.json"));
  envelope.replace(envelope.find("\"version\":2"), 11, "\"version\":1");
  envelope.replace(envelope.find("\"digest_of\":\"file\","), 19, "");
  WriteText(File("app.bin.sig.json"), envelope);
  Output old = Verify("app.bin", "admin.pub", {"--purpose", "artifact"});
  EXPECT_EQ(old.code, 2);
  EXPECT_CONTAINS(old.err, File("app.bin.sig.json"));
  EXPECT_CONTAINS(old.err, "version 1 envelopes are no longer accepted");
  EXPECT_CONTAINS(old.err, "re-sign");
  Output submitted = RunCli({"submit", File("app.bin.sig.json"), "--ledger", File("ledger.db")});
  EXPECT_EQ(submitted.code, 2);
  EXPECT_CONTAINS(submitted.err, "re-sign");
}

TEST_F(SignerCliTest, WrongPassphraseIsExitTwoWithAClearMessage) {
  Keygen("admin");
  WriteText(File("app.bin"), "x");
  WriteText(File("wrong"), "battery staple\n");
  ::chmod(File("wrong").c_str(), 0600);
  Output wrong = RunCli({"sign", File("app.bin"), "--key", File("admin.key"), "--purpose",
                         "artifact", "--passphrase-file", File("wrong")});
  EXPECT_EQ(wrong.code, 2);
  EXPECT_CONTAINS(wrong.err, "wrong passphrase for " + File("admin.key"));
  EXPECT_FALSE(PathExists(File("app.bin.sig.json")));
  EXPECT_LACKS(wrong.err + wrong.out, "battery");

  ::chmod(File("wrong").c_str(), 0644);
  Output readable = RunCli({"sign", File("app.bin"), "--key", File("admin.key"), "--purpose",
                            "artifact", "--passphrase-file", File("wrong")});
  EXPECT_EQ(readable.code, 2);
  EXPECT_CONTAINS(readable.err, File("wrong"));
}

TEST_F(SignerCliTest, MissingOrBadInputIsExitTwoNamingIt) {
  Keygen("admin");
  WriteText(File("app.bin"), "x");
  ASSERT_EQ(Sign("app.bin", "admin", "artifact").code, 0);

  Output no_file = Sign("nope.bin", "admin", "artifact");
  EXPECT_EQ(no_file.code, 2);
  EXPECT_CONTAINS(no_file.err, "nope.bin");
  WriteText(File("other.bin"), "y");
  Output no_key = Sign("other.bin", "nokey", "artifact");
  EXPECT_EQ(no_key.code, 2);
  EXPECT_CONTAINS(no_key.err, "nokey.key");
  Output bad_purpose = Sign("app.bin", "admin", "firmware");
  EXPECT_EQ(bad_purpose.code, 2);
  EXPECT_CONTAINS(bad_purpose.err, "artifact, config or policy");

  Output no_target = RunCli({"verify", File("gone.bin"), "--sig", File("app.bin.sig.json"),
                             "--trusted", File("admin.pub"), "--purpose", "artifact"});
  EXPECT_EQ(no_target.code, 2);
  EXPECT_CONTAINS(no_target.err, "gone.bin");
  Output no_sig = RunCli({"verify", File("app.bin"), "--sig", File("gone.sig.json"), "--trusted",
                          File("admin.pub"), "--purpose", "artifact"});
  EXPECT_EQ(no_sig.code, 2);
  EXPECT_CONTAINS(no_sig.err, "gone.sig.json");
  Output no_trusted = RunCli({"verify", File("app.bin"), "--sig", File("app.bin.sig.json"),
                              "--trusted", File("nobody.pub"), "--purpose", "artifact"});
  EXPECT_EQ(no_trusted.code, 2);
  EXPECT_CONTAINS(no_trusted.err, "nobody.pub");
  WriteText(File("junk.sig.json"), "{\"version\":1}");
  Output junk = RunCli({"verify", File("app.bin"), "--sig", File("junk.sig.json"), "--trusted",
                        File("admin.pub"), "--purpose", "artifact"});
  EXPECT_EQ(junk.code, 2);
  EXPECT_CONTAINS(junk.err, "junk.sig.json");

  Output missing_flag = RunCli({"verify", File("app.bin"), "--trusted", File("admin.pub")});
  EXPECT_EQ(missing_flag.code, 2);
  EXPECT_CONTAINS(missing_flag.err, "--sig is required");
  EXPECT_EQ(RunCli({"frobnicate"}).code, 2);
  EXPECT_EQ(RunCli({}).code, 2);
  EXPECT_EQ(RunCli({"--help"}).code, 0);
}

TEST_F(SignerCliTest, ThereIsNoWayToPassThePassphraseOnTheCommandLine) {
  for (const char* flag : {"--passphrase", "--password", "--pass"}) {
    Output tried = RunCli({"keygen", "--out", File("k"), flag, "secret"});
    EXPECT_EQ(tried.code, 2) << flag;
    EXPECT_FALSE(PathExists(File("k.key")));
  }
  Output both = RunCli({"keygen", "--out", File("k"), "--passphrase-file", File("pass"),
                        "--passphrase-env", kPassphraseVariable});
  EXPECT_EQ(both.code, 2);
  EXPECT_CONTAINS(both.err, "at most one");
}

// Without a controlling terminal (and no file or variable), asking fails
// cleanly instead of reading stdin or hanging. setsid() in a child detaches
// it from any terminal the test runs in.
TEST_F(SignerCliTest, PromptWithoutATerminalIsExitTwo) {
  Keygen("admin");
  WriteText(File("app.bin"), "x");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setsid();
    Output sign =
        RunCli({"sign", File("app.bin"), "--key", File("admin.key"), "--purpose", "artifact"});
    Output keygen = RunCli({"keygen", "--out", File("new")});
    bool ok = sign.code == 2 && sign.err.find("no terminal") != std::string::npos &&
              sign.err.find("--passphrase-file") != std::string::npos && keygen.code == 2 &&
              keygen.err.find("no terminal") != std::string::npos;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(PathExists(File("app.bin.sig.json")));
  EXPECT_FALSE(PathExists(File("new.key")));
}

TEST_F(SignerCliTest, VerifyDirListsAddedRemovedAndChangedFiles) {
  Keygen("admin");
  ::mkdir(File("tree").c_str(), 0755);
  ::mkdir(File("tree/etc").c_str(), 0755);
  WriteText(File("tree/etc/app.conf"), "port = 80\n");
  WriteText(File("tree/old.txt"), "old\n");
  WriteText(File("tree/same.txt"), "same\n");
  Output signed_tree = RunCli({"sign-dir", File("tree"), "--key", File("admin.key"), "--purpose",
                               "config", "--passphrase-file", File("pass")});
  ASSERT_EQ(signed_tree.code, 0) << signed_tree.err;
  EXPECT_CONTAINS(signed_tree.out, "3 files");
  std::vector<std::string> verify = {"verify-dir",          File("tree"), "--sig",
                                     File("tree.sig.json"), "--trusted",  File("admin.pub"),
                                     "--purpose",           "config"};
  Output clean = RunCli(verify);
  EXPECT_EQ(clean.code, 0) << clean.out << clean.err;

  WriteText(File("tree/etc/app.conf"), "port = 81\n");
  WriteText(File("tree/new.txt"), "new\n");
  ASSERT_EQ(::unlink(File("tree/old.txt").c_str()), 0);
  Output dirty = RunCli(verify);
  EXPECT_EQ(dirty.code, 1);
  EXPECT_CONTAINS(dirty.out, "file_changed");
  EXPECT_CONTAINS(dirty.out, "added new.txt");
  EXPECT_CONTAINS(dirty.out, "removed old.txt");
  EXPECT_CONTAINS(dirty.out, "changed etc/app.conf");
  EXPECT_LACKS(dirty.out, "same.txt");

  // A file envelope is not a directory envelope, and the other way round.
  Output crossed = RunCli({"verify", File("tree/same.txt"), "--sig", File("tree.sig.json"),
                           "--trusted", File("admin.pub"), "--purpose", "config"});
  EXPECT_EQ(crossed.code, 2);
  EXPECT_CONTAINS(crossed.err, "verify-dir");
  // --out, and no overwrite without --force.
  EXPECT_EQ(RunCli({"sign-dir", File("tree"), "--key", File("admin.key"), "--purpose", "config",
                    "--passphrase-file", File("pass")})
                .code,
            2);
  EXPECT_EQ(RunCli({"sign-dir", File("tree"), "--key", File("admin.key"), "--purpose", "config",
                    "--out", File("elsewhere.json"), "--passphrase-file", File("pass")})
                .code,
            0);
}

TEST_F(SignerCliTest, SubmitAndRevokeAppendLedgerEntries) {
  Keygen("admin");
  ASSERT_TRUE(ledger::Ledger::Create(File("ledger.db"), "test.example/ledger",
                                     Ed25519PrivateKey::Generate().value().public_key())
                  .ok());
  WriteText(File("app.bin"), "x");
  ASSERT_EQ(Sign("app.bin", "admin", "artifact").code, 0);
  std::uint64_t before = ledger::Ledger::Open(File("ledger.db")).value().Size().value();
  Output submitted =
      RunCli({"submit", File("app.bin.sig.json"), "--ledger", File("ledger.db"), "--actor", "ci"});
  ASSERT_EQ(submitted.code, 0) << submitted.err;
  EXPECT_CONTAINS(submitted.out, "artifact.approved");
  EXPECT_CONTAINS(submitted.out, "as entry " + std::to_string(before + 1));  // seqs count from 1

  std::string digest = std::string(
      "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");  // sha256("x")
  Output revoked =
      RunCli({"revoke", "--sha256", digest, "--key", File("admin.key"), "--ledger",
              File("ledger.db"), "--reason", "CVE", "--passphrase-file", File("pass")});
  ASSERT_EQ(revoked.code, 0) << revoked.err;
  EXPECT_CONTAINS(revoked.out, "artifact.revoked");
  EXPECT_EQ(ledger::Ledger::Open(File("ledger.db")).value().Size().value(), before + 2);

  // A forged envelope is refused by the ledger: verification failed.
  std::string envelope = ReadText(File("app.bin.sig.json"));
  envelope.replace(envelope.find("\"size\":1"), 8, "\"size\":2");
  WriteText(File("forged.sig.json"), envelope);
  Output forged = RunCli({"submit", File("forged.sig.json"), "--ledger", File("ledger.db")});
  EXPECT_EQ(forged.code, 1) << forged.err;
  EXPECT_CONTAINS(forged.err, "forged.sig.json");

  Output no_ledger = RunCli({"submit", File("app.bin.sig.json"), "--ledger", File("none.db")});
  EXPECT_EQ(no_ledger.code, 2);
  EXPECT_CONTAINS(no_ledger.err, "none.db");
  Output bad_hex = RunCli(
      {"revoke", "--sha256", "XYZ", "--key", File("admin.key"), "--ledger", File("ledger.db")});
  EXPECT_EQ(bad_hex.code, 2);
  EXPECT_CONTAINS(bad_hex.err, "--sha256");
}

}  // namespace
}  // namespace attest::signer
