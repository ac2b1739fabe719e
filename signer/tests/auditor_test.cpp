// FORMAT.md's recipes work as written: an auditor with python3 and openssl
// (no signer code) rebuilds the signed bytes and checks the signature and
// the manifest digest.
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/signer/directory.h"
#include "attest/signer/envelope.h"
#include "attest/signer/key_file.h"
#include "attest/signer/verify.h"
#include "attest/testing/test_support.h"

namespace attest::signer {
namespace {

using attest::testing::RunCommand;
using attest::testing::TempDir;
using attest::testing::WriteText;

const TimePoint kTime = TimePoint(std::chrono::seconds(1795000000));

// FORMAT.md §2.3, with the file names taken from argv.
constexpr std::string_view kRebuildMessage = R"(import base64, json, sys
env = json.load(open(sys.argv[1]))
kind = {"artifact": "artifact.approved", "config": "config.changed",
        "policy": "policy.signed"}[env["purpose"]]
payload = {k: env[k] for k in ("comment", "key_id", "path", "purpose", "sha256", "size", "time")
           if k in env}
body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
ptype = ("application/vnd.attest." + kind + "+json").encode()
open(sys.argv[2], "wb").write(b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(body), body))
open(sys.argv[3], "wb").write(base64.b64decode(env["signature"]))
)";

// FORMAT.md §3.
constexpr std::string_view kManifestDigest = R"(import hashlib, json, sys
m = json.load(open(sys.argv[1]))["manifest"]
body = json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
print(hashlib.sha256(body).hexdigest(), len(body))
)";

bool HavePython() { return RunCommand({"python3", "-c", "pass"}).exit_code == 0; }

TEST(AuditorTest, PythonAndOpensslCheckAFileEnvelope) {
  ASSERT_TRUE(HavePython()) << "python3 is a test dependency (scripts/install-deps)";
  TempDir dir;
  KeyGenOptions options;
  options.encrypt = false;
  options.write_pem = true;
  ASSERT_TRUE(WriteNewKey(dir.File("k"), {}, options).ok());
  auto key = LoadPrivateKey(dir.File("k.key"), nullptr).value();
  WriteText(dir.File("policy.json"), "{\"version\":1}\n");
  // Non-ASCII and an escaped control character in the comment.
  auto envelope = SignFile(dir.File("policy.json"), key, Purpose::kPolicy,
                           "approved \xe2\x80\x94 QA \xe2\x9c\x93\t\"ok\"", kTime);
  ASSERT_TRUE(envelope.ok()) << envelope.error().ToString();
  WriteText(dir.File("policy.json.sig.json"), SerializeEnvelope(*envelope).value());
  WriteText(dir.File("rebuild.py"), std::string(kRebuildMessage));

  auto rebuilt = RunCommand({"python3", dir.File("rebuild.py"), dir.File("policy.json.sig.json"),
                             dir.File("msg"), dir.File("sig")});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  Bytes expected = SignedMessage(*envelope).value();
  EXPECT_EQ(attest::testing::ReadText(dir.File("msg")), std::string(AsText(expected)));
  auto verified =
      RunCommand({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir.File("k.pem"), "-rawin",
                  "-in", dir.File("msg"), "-sigfile", dir.File("sig")});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST(AuditorTest, PythonRebuildsTheManifestDigest) {
  ASSERT_TRUE(HavePython()) << "python3 is a test dependency (scripts/install-deps)";
  TempDir dir;
  TempDir tree;
  WriteText(tree.File("b.conf"), "b\n");
  WriteText(tree.File("a \xc3\xa9t\xc3\xa9.conf"), "a\n");
  auto key = Ed25519PrivateKey::Generate().value();
  auto envelope = SignDirectory(tree.path(), key, Purpose::kConfig, std::nullopt, kTime);
  ASSERT_TRUE(envelope.ok()) << envelope.error().ToString();
  WriteText(dir.File("tree.sig.json"), SerializeEnvelope(*envelope).value());
  WriteText(dir.File("digest.py"), std::string(kManifestDigest));
  auto digest = RunCommand({"python3", dir.File("digest.py"), dir.File("tree.sig.json")});
  ASSERT_EQ(digest.exit_code, 0) << digest.err;
  EXPECT_EQ(digest.out, HexEncode(envelope->sha256) + " " + std::to_string(envelope->size) + "\n");
}

}  // namespace
}  // namespace attest::signer
