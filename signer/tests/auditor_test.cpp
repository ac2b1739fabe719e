// FORMAT.md's recipes work as written: an auditor with python3 and openssl
// (no signer code) rebuilds the signed bytes and checks the signature and
// the manifest digest. The recipes are read from FORMAT.md itself, so the
// page cannot drift from what works.
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/signer/directory.h"
#include "attest/signer/envelope.h"
#include "attest/signer/key_file.h"
#include "attest/signer/verify.h"
#include "attest/testing/test_support.h"

#include "test_time.h"

namespace attest::signer {
namespace {

using attest::test::RunCommand;
using attest::test::TempDir;
using attest::test::WriteText;

// The `index`-th code block (counting from 0) after `marker` in FORMAT.md,
// exactly as printed there.
std::string FormatBlock(std::string_view marker, std::size_t index = 0) {
  std::string text = attest::test::ReadText(ATTEST_SIGNER_FORMAT_MD);
  std::size_t at = text.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  for (std::size_t block = 0; at != std::string::npos; ++block) {
    std::size_t open = text.find("\n```", at);
    if (open == std::string::npos) break;
    std::size_t start = text.find('\n', open + 1) + 1;  // after "```language"
    std::size_t end = text.find("\n```\n", start);
    if (end == std::string::npos) break;
    if (block == index) return text.substr(start, end + 1 - start);
    at = end + 4;
  }
  ADD_FAILURE() << "no code block " << index << " after " << marker;
  return "";
}

// Runs `command` with sh in `directory`, as an auditor would type it there.
attest::test::CommandResult RunIn(const std::string& directory, const std::string& command) {
  return RunCommand({"sh", "-c", "cd \"$1\" && " + command, "sh", directory});
}

bool HavePython() { return RunCommand({"python3", "-c", "pass"}).exit_code == 0; }

// §2.3's two blocks, run as printed in a directory holding FILE,
// FILE.sig.json and NAME.pem.
TEST(AuditorTest, PythonAndOpensslCheckAFileEnvelope) {
  ASSERT_TRUE(HavePython()) << "python3 is a test dependency (scripts/install-deps)";
  TempDir dir;
  KeyGenOptions options;
  options.encrypt = false;
  options.write_pem = true;
  ASSERT_TRUE(WriteNewKey(dir.File("NAME"), {}, options).ok());
  auto key = LoadPrivateKey(dir.File("NAME.key"), nullptr).value();
  WriteText(dir.File("FILE"), "{\"version\":1}\n");
  // Non-ASCII and an escaped control character in the comment.
  auto envelope = SignFile(dir.File("FILE"), key, Purpose::kPolicy,
                           "approved \xe2\x80\x94 QA \xe2\x9c\x93\t\"ok\"", test::kSigningTime);
  ASSERT_TRUE(envelope.ok()) << envelope.error().ToString();
  WriteText(dir.File("FILE.sig.json"), SerializeEnvelope(*envelope).value());
  WriteText(dir.File("rebuild.py"), FormatBlock("### 2.3", 0));

  auto rebuilt = RunIn(dir.path(), "python3 rebuild.py");
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  Bytes expected = SignedMessage(*envelope).value();
  EXPECT_EQ(attest::test::ReadText(dir.File("msg")), std::string(AsText(expected)));

  std::string commands = FormatBlock("### 2.3", 1);
  std::string verify_command = commands.substr(0, commands.find('\n'));
  ASSERT_EQ(verify_command.rfind("openssl pkeyutl -verify", 0), 0u) << verify_command;
  auto verified = RunIn(dir.path(), verify_command);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  std::string hashed = RunIn(dir.path(), "sha256sum FILE; stat -c %s FILE").out;
  EXPECT_EQ(hashed,
            HexEncode(envelope->sha256) + "  FILE\n" + std::to_string(envelope->size) + "\n");

  // A directory envelope is not a file envelope: the recipe stops.
  auto tree = SignDirectory(dir.path(), key, Purpose::kPolicy, std::nullopt, test::kSigningTime);
  ASSERT_TRUE(tree.ok()) << tree.error().ToString();
  WriteText(dir.File("FILE.sig.json"), SerializeEnvelope(*tree).value());
  EXPECT_NE(RunIn(dir.path(), "python3 rebuild.py").exit_code, 0);
}

// §3's block, run as printed beside DIR.sig.json.
TEST(AuditorTest, PythonRebuildsTheManifestDigest) {
  ASSERT_TRUE(HavePython()) << "python3 is a test dependency (scripts/install-deps)";
  TempDir dir;
  TempDir tree;
  WriteText(tree.File("b.conf"), "b\n");
  WriteText(tree.File("a \xc3\xa9t\xc3\xa9.conf"), "a\n");
  auto key = Ed25519PrivateKey::Generate().value();
  auto envelope =
      SignDirectory(tree.path(), key, Purpose::kConfig, std::nullopt, test::kSigningTime);
  ASSERT_TRUE(envelope.ok()) << envelope.error().ToString();
  WriteText(dir.File("DIR.sig.json"), SerializeEnvelope(*envelope).value());
  auto digest = RunIn(dir.path(), FormatBlock("To rebuild the manifest digest by hand"));
  ASSERT_EQ(digest.exit_code, 0) << digest.err;
  EXPECT_EQ(digest.out, HexEncode(envelope->sha256) + " " + std::to_string(envelope->size) + "\n");
}

}  // namespace
}  // namespace attest::signer
