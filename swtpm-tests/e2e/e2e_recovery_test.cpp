// Faults the daemon must ride out: kill -9 and a restart (same node, same
// AK, no new enrollment), a restarted verifier, and a verifier that is
// away for a while (backoff, one log line for the problem, recovery).
#include <csignal>
#include <set>
#include <thread>

#include "attest/attestd/node_certificate.h"

#include "e2e_test_support.h"

namespace attest::test {
namespace {

class E2eRecoveryTest : public E2eTest {};

std::size_t CountOf(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

TEST_F(E2eRecoveryTest, KilledAttestdResumesAndARestartedVerifierIsFoundAgain) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  const std::string identity_path = deployment().attestd_state() + "/identity.json";
  const std::string identity = ReadText(identity_path);
  ATTEST_E2E_ASSIGN(record, deployment().Api("GET", "/v1/nodes/" + node_id()));

  deployment().KillAttestd();
  const std::int64_t restarted = UnixNow() + 1;  // an attempt of the new process
  ASSERT_TRUE(deployment().StartAttestd().ok());
  ASSERT_NO_FATAL_FAILURE(WaitUntilTrusted(restarted));
  // Same node, same AK and enrollment: identity.json is byte for byte the
  // one it had, and the verifier saw no second enrollment.
  EXPECT_EQ(ReadText(identity_path), identity);
  ATTEST_E2E_ASSIGN(node, deployment().Api("GET", "/v1/nodes/" + node_id()));
  EXPECT_EQ(node.body["enrolled_at"], record.body["enrolled_at"]);
  EXPECT_EQ(node.body["state"], "trusted");
  ATTEST_E2E_ASSIGN(entries, deployment().LedgerEntries());
  EXPECT_EQ(EntriesOf(entries, "node.enrolled", node_id()).size(), 1u);
  EXPECT_EQ(CountOf(deployment().attestd_log(), "attestd starting"), 2u);

  // The verifier restarts (same port, same state): attestd attests again.
  ATTEST_E2E_ASSIGN(verifier_exit, deployment().StopVerifier());
  EXPECT_EQ(verifier_exit, 0) << deployment().verifier_log();
  const std::int64_t verifier_back = UnixNow() + 1;  // an attempt after the restart
  ASSERT_TRUE(deployment().StartVerifier().ok());
  ASSERT_NO_FATAL_FAILURE(WaitUntilTrusted(verifier_back));
  ATTEST_E2E_ASSIGN(after, deployment().WaitForNode(
                               node_id(),
                               [](const Json& n) {
                                 return n["state"] == "trusted" && n.contains("last_attestation");
                               },
                               E2eDeployment::In(seconds(5)), "trusted"));
  EXPECT_EQ(after["enrolled_at"], record.body["enrolled_at"]);
  EXPECT_EQ(ReadText(identity_path), identity);
  ATTEST_E2E_ASSIGN(attestd_exit, deployment().StopAttestd());
  EXPECT_EQ(attestd_exit, 0);
}

TEST_F(E2eRecoveryTest, UnreachableVerifierIsRetriedWithBackoffAndOneLogLine) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  ATTEST_E2E_ASSIGN(certificate, attestd::ReadInstalledCertificate(deployment().certificate_dir()));
  ASSERT_TRUE(certificate.has_value());

  ATTEST_E2E_ASSIGN(verifier_exit, deployment().StopVerifier());
  EXPECT_EQ(verifier_exit, 0);
  const std::int64_t outage = UnixNow();
  ATTEST_E2E_ASSIGN(failing, deployment().WaitForAttestd(
                                 [outage](const attestd::AttestationStatus& s) {
                                   return s.state == "error" && s.time >= outage;
                                 },
                                 E2eDeployment::In(seconds(10)), "an error"));
  EXPECT_FALSE(failing.problem.empty());
  // Away for about six seconds: with retry_min 1 s and retry_max 2 s it
  // tries again several times (status.json is rewritten each time)...
  std::set<std::int64_t> attempts;
  const auto away_until = E2eDeployment::In(seconds(6));
  while (std::chrono::steady_clock::now() < away_until) {
    auto status = deployment().AttestdStatus();
    if (status.ok() && *status && (*status)->state == "error") attempts.insert((*status)->time);
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GE(attempts.size(), 3u) << "attestd did not retry";
  EXPECT_LE(attempts.size(), 7u) << "attestd retried without backing off";
  // ...while the log names the problem when it starts (and again only if
  // it changes: a connection cut while the verifier drains, then refused),
  // not once per retry...
  const std::string log = deployment().attestd_log();
  const std::size_t problem_lines = CountOf(log, "<4>attestation: ");
  EXPECT_GE(problem_lines, 1u) << log;
  EXPECT_LE(problem_lines, 2u) << log;
  EXPECT_LT(problem_lines, attempts.size()) << log;
  // ...and the certificate stays in place.
  ATTEST_E2E_ASSIGN(kept, attestd::ReadInstalledCertificate(deployment().certificate_dir()));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->not_after, certificate->not_after);

  const std::int64_t back = UnixNow();
  ASSERT_TRUE(deployment().StartVerifier().ok());
  ASSERT_NO_FATAL_FAILURE(WaitUntilTrusted(back, seconds(15)));
  const std::string recovered = deployment().attestd_log();
  EXPECT_EQ(CountOf(recovered, "attestation works again"), 1u) << recovered;
  EXPECT_EQ(CountOf(recovered, "<4>attestation: "), problem_lines) << recovered;
  ATTEST_E2E_ASSIGN(attestd_exit, deployment().StopAttestd());
  EXPECT_EQ(attestd_exit, 0);
}

// SIGHUP reloads attestd.toml: a good file is taken and said so, a broken
// one is refused with the running configuration kept, and the node goes on
// attesting either way.
TEST_F(E2eRecoveryTest, SighupReloadsTheConfigurationAndKeepsItWhenTheNewOneIsBroken) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  const std::string good = ReadText(deployment().attestd_config());

  deployment().SignalAttestd(SIGHUP);
  const auto reloaded = E2eDeployment::In(seconds(10));
  while (CountOf(deployment().attestd_log(), "reloaded ") == 0 &&
         std::chrono::steady_clock::now() < reloaded) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(CountOf(deployment().attestd_log(), "<5>reloaded " + deployment().attestd_config()), 1u)
      << deployment().attestd_log();
  ASSERT_NO_FATAL_FAILURE(WaitUntilTrusted(UnixNow() + 1));

  WriteText(deployment().attestd_config(), good + "\n[schedule\n");  // a syntax error
  deployment().SignalAttestd(SIGHUP);
  const auto refused = E2eDeployment::In(seconds(10));
  while (CountOf(deployment().attestd_log(), "keeping the running configuration") == 0 &&
         std::chrono::steady_clock::now() < refused) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string log = deployment().attestd_log();
  EXPECT_EQ(CountOf(log, "keeping the running configuration"), 1u) << log;
  EXPECT_NE(log.find("<3>reload: " + deployment().attestd_config() + ":"), std::string::npos)
      << log;
  EXPECT_EQ(CountOf(log, "<5>reloaded "), 1u) << log;
  // Still attesting with what it had, and SIGTERM still ends it cleanly.
  ASSERT_NO_FATAL_FAILURE(WaitUntilTrusted(UnixNow() + 1));
  ATTEST_E2E_ASSIGN(exit_code, deployment().StopAttestd());
  EXPECT_EQ(exit_code, 0);
}

}  // namespace
}  // namespace attest::test
