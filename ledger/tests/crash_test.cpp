// Crash safety: a writer process is killed with SIGKILL at random points
// while appending (and checkpointing); every entry it reported as committed
// must survive, and the ledger must still verify.
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/json.h"
#include "attest/ledger/verify.h"

#include "test_util.h"

namespace attest::ledger {
namespace {

using test::TempDir;

// Child: append forever, writing each committed seq to `report_fd` after
// Append returns (the point where a caller would tell anyone it is stored).
[[noreturn]] void AppendUntilKilled(const std::string& db, const NoteSigner& signer, int round,
                                    int report_fd) {
  auto ledger = Ledger::Open(db);
  if (!ledger.ok()) ::_exit(3);
  for (int n = 0;; ++n) {
    std::string payload =
        "{\"round\":" + std::to_string(round) + ",\"n\":" + std::to_string(n) + "}";
    auto appended = ledger->Append(test::MakeEntry("config.changed", payload, "crash-test"));
    if (!appended.ok()) ::_exit(4);
    std::uint64_t record[3] = {appended->seq, static_cast<std::uint64_t>(round),
                               static_cast<std::uint64_t>(n)};
    if (::write(report_fd, record, sizeof(record)) != sizeof(record)) ::_exit(5);
    if (n % 7 == 6 && !ledger->SignCheckpoint(signer).ok()) ::_exit(6);
  }
}

TEST(CrashTest, SigkillNeverLosesACommittedEntry) {
  TempDir dir;
  auto [db, signer, verifier] = test::CreateClosedTestLedger(dir);
  const std::uint32_t seed = ::attest::test::TestRandomSeed();
  SCOPED_TRACE("random seed " + std::to_string(seed) + " (set ATTEST_TEST_SEED to repeat it)");
  std::mt19937 random(seed);
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> committed;  // seq -> (round, n)

  constexpr int kRounds = 25;
  for (int round = 0; round < kRounds; ++round) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      AppendUntilKilled(db, signer, round, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    // Odd rounds kill anywhere from "still opening the database" on; even
    // rounds only after the first commit was reported, so that however slow
    // the machine (a sanitizer build beside other builds), kills land among
    // appends too.
    std::uint64_t first[3];
    const bool wait_for_a_commit = round % 2 == 0;
    if (wait_for_a_commit) {
      ASSERT_EQ(::read(pipe_fds[0], first, sizeof(first)), static_cast<ssize_t>(sizeof(first)))
          << "round " << round << ": the writer reported no commit";
      committed[first[0]] = {first[1], first[2]};
    }
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 60000));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "the writer exited on its own with status " << WEXITSTATUS(status);
    std::uint64_t record[3];
    while (::read(pipe_fds[0], record, sizeof(record)) == sizeof(record)) {
      committed[record[0]] = {record[1], record[2]};
    }
    ::close(pipe_fds[0]);

    auto ledger = Ledger::Open(db);
    ASSERT_TRUE(ledger.ok()) << "round " << round << ": " << ledger.error().ToString();
    VerifyReport report;
    ASSERT_TRUE(VerifyDatabase(*ledger, verifier, report).ok());
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.problems().front().where << ": "
                             << report.problems().front().what;
    for (const auto& [seq, origin] : committed) {
      auto entry = ledger->Get(seq);
      ASSERT_TRUE(entry.ok()) << "round " << round << ": committed seq " << seq << " is gone";
      Json payload = ParseJsonStrict(entry->content.payload).value();
      ASSERT_EQ(payload["round"], origin.first);
      ASSERT_EQ(payload["n"], origin.second);
    }
  }
  // The test only means something if the kills landed among appends: every
  // even round saw at least one commit before its kill.
  EXPECT_GE(committed.size(), static_cast<std::size_t>(kRounds / 2 + 1));
}

}  // namespace
}  // namespace attest::ledger
