// Failures under load with two verifiers on one PostgreSQL database (issue
// 14 §3): one verifier killed with SIGKILL, and the database restarted. The
// nodes carry on, and nothing a client was told is done goes missing.
#include <iostream>

#include "two_verifiers.h"

namespace attest::service::test {
namespace {

constexpr std::chrono::seconds kProgressTimeout{30};

class FailoverTest : public TwoVerifiersTest {
 protected:
  FailoverTest() : TwoVerifiersTest(8) {}

  FleetLoadOptions LoadOptions() const {
    FleetLoadOptions options;
    options.verifiers = {ClientOptionsFor(0), ClientOptionsFor(1)};
    options.node_threads = 4;
    options.csr_every = 3;
    options.admin_token = admin_token_;
    return options;
  }
  std::vector<SimulatedNode*> Nodes() const {
    std::vector<SimulatedNode*> nodes;
    for (const auto& node : nodes_) nodes.push_back(node.get());
    return nodes;
  }
  // What the run did, in the test's output (and its XML).
  void Summarize(const FleetLoadReport& report) {
    const std::string summary =
        std::to_string(report.trusted) + " trusted, " + std::to_string(report.certificates.size()) +
        " certificates, " + std::to_string(report.tokens.size()) + " tokens, " +
        std::to_string(report.connection_errors) + " failovers on a connection error, " +
        std::to_string(report.unavailable) + " on 503";
    std::cout << "[ load    ] " << summary << "\n";
    RecordProperty("load", summary);
  }
  static void ExpectNoFailures(const FleetLoadReport& report) {
    EXPECT_EQ(report.failures, 0u)
        << "e.g. " << (report.failure_samples.empty() ? "" : report.failure_samples[0]);
  }
};

TEST_F(FailoverTest, SigkilledVerifierLosesNothingAndTheOtherCarriesOn) {
  EnrollAll();
  FleetLoad load(Nodes(), LoadOptions());
  ASSERT_TRUE(WaitFor([&] { return load.trusted() >= 30 && load.tokens() >= 3; }, kProgressTimeout))
      << "no steady load before the kill: " << load.trusted() << " trusted";
  verifier(0).Kill();
  const std::uint64_t at_kill = load.trusted();
  EXPECT_TRUE(WaitFor([&] { return load.trusted() >= at_kill + 40; }, kProgressTimeout))
      << "the nodes did not carry on at B: " << load.trusted() - at_kill << " trusted since";
  FleetLoadReport report = load.Stop();
  Summarize(report);
  ExpectNoFailures(report);
  // The threads that attested at A found it gone and went to B.
  EXPECT_GE(report.connection_errors, 1u);
  EXPECT_EQ(report.unavailable, 0u) << "the database never went away";
  ASSERT_TRUE(verifier(1).Running()) << "B died too";

  DrainAt(1, report);
  ExpectOnRecord(report, 1);
}

TEST_F(FailoverTest, DatabaseRestartUnderLoadNeedsNoVerifierRestart) {
  EnrollAll();
  const std::array<pid_t, kVerifiers> pids = {verifier(0).pid(), verifier(1).pid()};
  FleetLoad load(Nodes(), LoadOptions());
  ASSERT_TRUE(WaitFor([&] { return load.trusted() >= 30 && load.tokens() >= 3; }, kProgressTimeout))
      << "no steady load before the restart: " << load.trusted() << " trusted";

  ASSERT_TRUE(cluster().Stop().ok());
  // While the database is down, both verifiers answer, and say why they
  // cannot serve: 503 STORE_UNAVAILABLE with Retry-After.
  for (std::size_t v = 0; v < kVerifiers; ++v) {
    std::unique_ptr<http::Client> client = Connect(v);
    ASSERT_TRUE(client);
    auto challenge = client->Post("/v1/nodes/" + nodes_[0]->node_id() + "/challenges", "{}");
    ASSERT_TRUE(challenge.ok()) << challenge.error().ToString();
    EXPECT_EQ(challenge->status, 503) << challenge->body;
    auto body = ParseJsonStrict(challenge->body);
    ASSERT_TRUE(body.ok()) << challenge->body;
    EXPECT_EQ(ErrorCodeOf(*body), "STORE_UNAVAILABLE") << challenge->body;
    bool retry_after = false;
    for (const auto& [name, value] : challenge->headers) retry_after |= name == "retry-after";
    EXPECT_TRUE(retry_after) << "503 without Retry-After";
  }
  EXPECT_TRUE(WaitFor([&] { return load.unavailable() >= 1; }, kProgressTimeout))
      << "the load never met the outage";
  ASSERT_TRUE(cluster().Start().ok());
  const std::uint64_t at_start = load.trusted();
  EXPECT_TRUE(WaitFor([&] { return load.trusted() >= at_start + 40; }, kProgressTimeout))
      << "the load did not resume: " << load.trusted() - at_start << " trusted since";

  FleetLoadReport report = load.Stop();
  Summarize(report);
  ExpectNoFailures(report);
  // Each serves again on its own, the same process as before. A verifier
  // whose connections met the outage retries them after a backoff of up to
  // 5 s (pg/reconnect.h), so it may still answer 503 that long after the
  // load resumed through the other one; not longer.
  constexpr std::chrono::milliseconds kReconnectBackoffMax{5000};
  for (std::size_t v = 0; v < kVerifiers; ++v) {
    std::unique_ptr<http::Client> client = Connect(v);
    ASSERT_TRUE(client);
    auto result = AttestAcross(*nodes_[v], *client, *client);
    WaitFor(
        [&] {
          if (Trusted(result)) return true;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          result = AttestAcross(*nodes_[v], *client, *client);
          return Trusted(result);
        },
        kReconnectBackoffMax + std::chrono::milliseconds(2000));
    EXPECT_TRUE(Trusted(result)) << "verifier " << v << ": " << Describe(result);
    EXPECT_TRUE(verifier(v).Running());
    EXPECT_EQ(verifier(v).pid(), pids[v]);
  }
  DrainAt(0, report);
  ExpectOnRecord(report, 1);
}

}  // namespace
}  // namespace attest::service::test
