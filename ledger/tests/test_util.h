// Helpers for the ledger tests: temporary directories, real child
// processes, and a fresh ledger with its keys.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "attest/ledger/ledger.h"
#include "attest/ledger/note.h"
#include "attest/testing/test_support.h"

namespace attest::ledger::test {

using ::attest::test::CommandOptions;
using ::attest::test::CommandResult;
using ::attest::test::ReadText;
using ::attest::test::RunCommand;
using ::attest::test::TempDir;
using ::attest::test::WriteText;

// Runs the ledger binary with `args`, feeding `input` on stdin. With
// `as_uid`, the child drops to that uid/gid first (tests run as root in CI;
// this is how they meet a file the user cannot write).
CommandResult RunLedger(const std::vector<std::string>& args, const std::string& input = "",
                        std::optional<uid_t> as_uid = std::nullopt);

std::vector<std::string> SplitLines(const std::string& text);  // drops the final empty piece
std::string JoinLines(const std::vector<std::string>& lines);  // each followed by '\n'

// A new ledger in `dir` and the key that signs its checkpoints.
struct TestLedger {
  std::string db;
  NoteSigner signer;
  NoteVerifier verifier;
  Ledger ledger;
};
TestLedger CreateTestLedger(const TempDir& dir, const std::string& origin = "test.example/ledger",
                            const std::string& name = "ledger.db");

// The same, with the connection closed: what a test that forks needs, since
// SQLite's POSIX locks do not cross fork() and an inherited connection lies.
struct ClosedTestLedger {
  std::string db;
  NoteSigner signer;
  NoteVerifier verifier;
};
ClosedTestLedger CreateClosedTestLedger(const TempDir& dir);

NewEntry MakeEntry(const std::string& kind, const std::string& payload,
                   const std::string& actor = "test");
NewEntry MakeSignedEntry(const Ed25519PrivateKey& key, const std::string& kind,
                         const std::string& payload);

}  // namespace attest::ledger::test
