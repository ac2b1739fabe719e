#include "test_util.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

#include "attest/json.h"

namespace attest::ledger::test {

CommandResult RunLedger(const std::vector<std::string>& args, const std::string& input,
                        std::optional<uid_t> as_uid) {
  std::vector<std::string> argv = {LEDGER_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, CommandOptions{.input = input, .as_uid = as_uid});
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t newline = text.find('\n', start);
    if (newline == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, newline - start));
    start = newline + 1;
  }
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

TestLedger CreateTestLedger(const TempDir& dir, const std::string& origin,
                            const std::string& name) {
  auto key = Ed25519PrivateKey::Generate();
  EXPECT_TRUE(key.ok());
  NoteSigner signer{origin, NoteKeyId(origin, key->public_key()), std::move(key).value()};
  NoteVerifier verifier = MakeNoteVerifier(origin, signer.key.public_key()).value();
  const std::string db = dir.File(name);
  auto ledger = Ledger::Create(db, origin, signer.key.public_key());
  EXPECT_TRUE(ledger.ok()) << ledger.error().ToString();
  return TestLedger{db, std::move(signer), std::move(verifier), std::move(ledger).value()};
}

ClosedTestLedger CreateClosedTestLedger(const TempDir& dir) {
  TestLedger open = CreateTestLedger(dir);
  return ClosedTestLedger{open.db, std::move(open.signer), open.verifier};
}

NewEntry MakeEntry(const std::string& kind, const std::string& payload, const std::string& actor) {
  return NewEntry{kind, actor, payload, std::nullopt};
}

NewEntry MakeSignedEntry(const Ed25519PrivateKey& key, const std::string& kind,
                         const std::string& payload) {
  std::string canonical = CanonicalJson(ParseJsonStrict(payload).value()).value();
  return NewEntry{kind, "release-engineer", payload,
                  EntrySignature{key.public_key(), key.Sign(SignedMessage(kind, canonical))}};
}

}  // namespace attest::ledger::test
