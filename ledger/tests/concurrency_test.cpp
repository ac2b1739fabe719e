// Several processes append to one ledger at once: SQLite's write lock
// serializes them, nothing is lost, and the chain verifies.
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/json.h"
#include "attest/ledger/verify.h"

#include "test_util.h"

namespace attest::ledger {
namespace {

TEST(ConcurrencyTest, FourProcessesAppendAThousandEachWithoutLoss) {
  test::TempDir dir;
  auto [db, signer, verifier] = test::CreateClosedTestLedger(dir);
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 1000;
  std::vector<pid_t> children;
  for (int writer = 0; writer < kWriters; ++writer) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto ledger = Ledger::Open(db);
      if (!ledger.ok()) ::_exit(3);
      for (int n = 0; n < kPerWriter; ++n) {
        std::string payload =
            "{\"writer\":" + std::to_string(writer) + ",\"n\":" + std::to_string(n) + "}";
        if (!ledger->Append(test::MakeEntry("config.changed", payload)).ok()) ::_exit(4);
      }
      ::_exit(0);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "a writer failed with status " << status;
  }

  auto ledger = Ledger::Open(db);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(*ledger->Size(), static_cast<std::uint64_t>(kWriters * kPerWriter));
  ASSERT_TRUE(ledger->SignCheckpoint(signer).ok());
  VerifyReport report;
  ASSERT_TRUE(VerifyDatabase(*ledger, verifier, report).ok());
  EXPECT_TRUE(report.ok()) << report.problems().front().where << ": "
                           << report.problems().front().what;

  // Each writer's entries are all there, once, in the order it wrote them.
  std::vector<int> next(kWriters, 0);
  for (std::uint64_t seq = 1; seq <= kWriters * kPerWriter; ++seq) {
    Json payload = ParseJsonStrict(ledger->Get(seq)->content.payload).value();
    int writer = payload["writer"].get<int>();
    ASSERT_EQ(payload["n"].get<int>(), next[writer]) << "seq " << seq;
    ++next[writer];
  }
  for (int writer = 0; writer < kWriters; ++writer) EXPECT_EQ(next[writer], kPerWriter);
}

}  // namespace
}  // namespace attest::ledger
