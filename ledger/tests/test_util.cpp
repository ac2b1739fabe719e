#include "test_util.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/json.h"

namespace attest::ledger::testing {

TempDir::TempDir() {
  std::string pattern = ::testing::TempDir() + "/ledger_test_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
  ::chmod(path_.c_str(), 0755);  // an unprivileged child must reach files inside
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input,
                         std::optional<uid_t> as_uid) {
  TempDir io;
  const std::string in_path = io.File("stdin"), out_path = io.File("stdout"),
                    err_path = io.File("stderr");
  WriteText(in_path, input);
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // Drop root's supplementary groups too, or the "unprivileged" child
    // would still be in group root.
    if (as_uid &&
        (::setgroups(0, nullptr) != 0 || ::setgid(*as_uid) != 0 || ::setuid(*as_uid) != 0)) {
      ::_exit(125);
    }
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  CommandResult result;
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadText(out_path);
  result.err = ReadText(err_path);
  return result;
}

CommandResult RunLedger(const std::vector<std::string>& args, const std::string& input,
                        std::optional<uid_t> as_uid) {
  std::vector<std::string> argv = {LEDGER_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, input, as_uid);
}

std::string ReadText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
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

}  // namespace attest::ledger::testing
