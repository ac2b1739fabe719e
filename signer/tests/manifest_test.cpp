#include "attest/signer/manifest.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "attest/json.h"
#include "attest/signer/directory.h"
#include "attest/signer/envelope.h"
#include "attest/signer/verify.h"
#include "attest/testing/test_support.h"

#include "test_time.h"

namespace attest::signer {
namespace {

using attest::test::TempDir;
using attest::test::WriteText;

std::vector<std::string> PathsOf(const Manifest& manifest) {
  std::vector<std::string> paths;
  for (const ManifestEntry& entry : manifest.files) paths.push_back(entry.path);
  return paths;
}

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(tree_.File("etc/app/conf.d"));
    WriteText(tree_.File("etc/app/main.conf"), "port = 8443\n");
    WriteText(tree_.File("etc/app/conf.d/10-tls.conf"), "tls = on\n");
    WriteText(tree_.File("etc/app/conf.d/20-log.conf"), "log = info\n");
    WriteText(tree_.File("README"), "config tree\n");
    ASSERT_EQ(::symlink("etc/app/main.conf", tree_.File("link.conf").c_str()), 0);
    ASSERT_EQ(::symlink("/etc", tree_.File("outside").c_str()), 0);
    trusted_.Add(MakePublicKeyInfo(key_.public_key()));
  }
  Envelope SignTree() {
    auto envelope =
        SignDirectory(tree_.path(), key_, Purpose::kConfig, std::nullopt, test::kSigningTime);
    EXPECT_TRUE(envelope.ok()) << envelope.error().ToString();
    // Through the file format, as a verifier would get it.
    auto parsed = ParseEnvelope(SerializeEnvelope(*envelope).value(), "tree.sig.json");
    EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
    return std::move(parsed).value();
  }
  DirectoryVerifyResult Verify(const Envelope& envelope) {
    auto result = VerifyDirectory(tree_.path(), envelope, trusted_, Purpose::kConfig);
    EXPECT_TRUE(result.ok()) << result.error().ToString();
    return result.ok() ? *result : DirectoryVerifyResult{};
  }

  TempDir tree_;
  Ed25519PrivateKey key_ = Ed25519PrivateKey::Generate().value();
  TrustedKeys trusted_;
};

TEST_F(ManifestTest, RegularFilesSortedBytewiseSymlinksNotFollowed) {
  auto manifest = BuildManifest(tree_.path());
  ASSERT_TRUE(manifest.ok()) << manifest.error().ToString();
  EXPECT_EQ(PathsOf(*manifest),
            (std::vector<std::string>{"README", "etc/app/conf.d/10-tls.conf",
                                      "etc/app/conf.d/20-log.conf", "etc/app/main.conf"}));
}

TEST_F(ManifestTest, SignedTreeVerifies) {
  DirectoryVerifyResult result = Verify(SignTree());
  EXPECT_TRUE(result.verdict.valid()) << result.verdict.detail;
  EXPECT_TRUE(result.diff.empty());
}

TEST_F(ManifestTest, ReportsChangedAddedAndRemovedFiles) {
  Envelope envelope = SignTree();
  WriteText(tree_.File("etc/app/main.conf"), "port = 8444\n");  // one byte
  WriteText(tree_.File("etc/app/conf.d/30-new.conf"), "new = yes\n");
  ASSERT_EQ(::unlink(tree_.File("etc/app/conf.d/20-log.conf").c_str()), 0);
  DirectoryVerifyResult result = Verify(envelope);
  EXPECT_EQ(result.verdict.reason, VerifyReason::kFileChanged);
  EXPECT_EQ(result.diff.changed, std::vector<std::string>{"etc/app/main.conf"});
  EXPECT_EQ(result.diff.added, std::vector<std::string>{"etc/app/conf.d/30-new.conf"});
  EXPECT_EQ(result.diff.removed, std::vector<std::string>{"etc/app/conf.d/20-log.conf"});
  EXPECT_NE(result.verdict.detail.find("added 1 (etc/app/conf.d/30-new.conf)"), std::string::npos)
      << result.verdict.detail;
}

TEST_F(ManifestTest, TamperedManifestIsRefused) {
  auto envelope =
      SignDirectory(tree_.path(), key_, Purpose::kConfig, std::nullopt, test::kSigningTime).value();
  envelope.manifest->files.pop_back();  // hide a file from the verifier
  auto parsed = ParseEnvelope(SerializeEnvelope(envelope).value(), "tree.sig.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(parsed.error().message.find("manifest"), std::string::npos);
  // Handed over in memory, it does not match the signed digest.
  DirectoryVerifyResult result = Verify(envelope);
  EXPECT_EQ(result.verdict.reason, VerifyReason::kBadSignature);
  EXPECT_TRUE(result.diff.empty());
}

TEST_F(ManifestTest, WrongPurposeAndUntrustedKey) {
  Envelope envelope = SignTree();
  auto result = VerifyDirectory(tree_.path(), envelope, trusted_, Purpose::kPolicy);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->verdict.reason, VerifyReason::kWrongPurpose);
  result = VerifyDirectory(tree_.path(), envelope, TrustedKeys{}, Purpose::kConfig);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->verdict.reason, VerifyReason::kUntrustedKey);
}

TEST_F(ManifestTest, FileAndDirectoryEnvelopesAreNotInterchangeable) {
  Envelope envelope = SignTree();
  EXPECT_EQ(VerifyFile(tree_.File("README"), envelope, trusted_, Purpose::kConfig).error().code,
            ErrorCode::kInvalidArgument);
  auto file_envelope =
      SignFile(tree_.File("README"), key_, Purpose::kConfig, std::nullopt, test::kSigningTime)
          .value();
  EXPECT_EQ(VerifyDirectory(tree_.path(), file_envelope, trusted_, Purpose::kConfig).error().code,
            ErrorCode::kInvalidArgument);
}

// A sign-dir envelope with its manifest removed used to verify as a file
// artifact: the file being the manifest's own JSON, whose digest it signs.
TEST_F(ManifestTest, StrippedManifestEnvelopeDoesNotVerifyAsAFile) {
  auto signed_tree =
      SignDirectory(tree_.path(), key_, Purpose::kArtifact, std::nullopt, test::kSigningTime);
  ASSERT_TRUE(signed_tree.ok()) << signed_tree.error().ToString();
  std::string manifest_json = CanonicalJson(ManifestToJson(*signed_tree->manifest)).value();
  TempDir elsewhere;
  std::string forged_file = elsewhere.File("manifest-as-binary");
  WriteText(forged_file, manifest_json);

  // The file on disk, stripped of its manifest: refused when parsed.
  Json document = ParseJsonStrict(SerializeEnvelope(*signed_tree).value()).value();
  ASSERT_EQ(document["digest_of"], "manifest");
  document.erase("manifest");
  auto stripped = ParseEnvelope(CanonicalJson(document).value(), "tree.sig.json");
  ASSERT_FALSE(stripped.ok());
  EXPECT_EQ(stripped.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(stripped.error().message.find("tree.sig.json: digest_of: is \"manifest\" but the "
                                          "envelope carries no manifest"),
            std::string::npos)
      << stripped.error().message;

  // Relabelled as a file too: it parses, but the signature says "manifest".
  document["digest_of"] = "file";
  auto relabelled = ParseEnvelope(CanonicalJson(document).value(), "tree.sig.json");
  ASSERT_TRUE(relabelled.ok()) << relabelled.error().ToString();
  auto verdict = VerifyFile(forged_file, *relabelled, trusted_, Purpose::kArtifact);
  ASSERT_TRUE(verdict.ok()) << verdict.error().ToString();
  EXPECT_EQ(verdict->reason, VerifyReason::kBadSignature);

  // Handed over in memory without its manifest: the same.
  Envelope in_memory = *signed_tree;
  in_memory.manifest.reset();
  verdict = VerifyFile(forged_file, in_memory, trusted_, Purpose::kArtifact);
  ASSERT_TRUE(verdict.ok()) << verdict.error().ToString();
  EXPECT_EQ(verdict->reason, VerifyReason::kBadSignature);
}

TEST(ManifestDiffTest, SortedMerge) {
  Manifest before{{{"a", {}, 1}, {"b", {}, 2}, {"d", {}, 4}}};
  Manifest after{{{"b", {}, 3}, {"c", {}, 3}, {"d", {}, 4}, {"e", {}, 5}}};
  ManifestDiff diff = DiffManifests(before, after);
  EXPECT_EQ(diff.removed, std::vector<std::string>{"a"});
  EXPECT_EQ(diff.changed, std::vector<std::string>{"b"});
  EXPECT_EQ(diff.added, (std::vector<std::string>{"c", "e"}));
}

}  // namespace
}  // namespace attest::signer
