// Two `verifier serve` processes on one PostgreSQL database (issue 14 §3):
// a node may take its challenge from one and answer at the other, both
// know the node's verified boot log, and a nonce posted to both at once is
// accepted once.
#include <barrier>
#include <thread>

#include "two_verifiers.h"

namespace attest::service::test {
namespace {

using SharedDatabaseTest = TwoVerifiersTest;

bool BoolMember(const Json& object, std::string_view key) {
  const Json* value = object.is_object() ? FindMember(object, key) : nullptr;
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

TEST_F(SharedDatabaseTest, ChallengeFromOneVerifierIsAnsweredAtTheOther) {
  EnrollAll();
  std::array<std::unique_ptr<http::Client>, kVerifiers> clients = {Connect(0), Connect(1)};
  ASSERT_TRUE(clients[0] && clients[1]);
  // Four rounds over every node; in round r node i takes its challenge from
  // verifier (i + r) % 2 and answers at the other.
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const std::size_t from = (i + static_cast<std::size_t>(round)) % kVerifiers;
      const std::size_t at = 1 - from;
      auto result = AttestAcross(*nodes_[i], *clients[from], *clients[at]);
      ASSERT_TRUE(Trusted(result)) << "round " << round << ", node " << i << ", challenge from "
                                   << from << ", answered at " << at << ": " << Describe(result);
      EXPECT_TRUE(BoolMember(result->body, "recorded"));
      // The first round sent the boot log; after it, whichever verifier
      // verified it, both say they hold it and verify from it.
      EXPECT_EQ(result->sent_boot_log, round == 0) << "round " << round << ", node " << i;
      EXPECT_EQ(BoolMember(result->body["verdict"], "boot_log_from_cache"), round > 0)
          << "round " << round << ", node " << i;
    }
  }
  // Both read the same record of each node.
  for (const auto& node : nodes_) {
    auto at_a = AdminGet(0, "/v1/nodes/" + node->node_id());
    auto at_b = AdminGet(1, "/v1/nodes/" + node->node_id());
    ASSERT_TRUE(at_a.ok() && at_b.ok());
    EXPECT_EQ((*at_a)["state"], "trusted");
    EXPECT_EQ(*at_a, *at_b);
  }
}

TEST_F(SharedDatabaseTest, SameNonceAtBothVerifiersAtOnceIsAcceptedOnce) {
  EnrollAll();
  std::array<std::unique_ptr<http::Client>, kVerifiers> clients = {Connect(0), Connect(1)};
  ASSERT_TRUE(clients[0] && clients[1]);
  // A first trusted attestation each, so the races below are routine ones.
  for (auto& node : nodes_) {
    auto first = AttestAcross(*node, *clients[0], *clients[0]);
    ASSERT_TRUE(Trusted(first)) << Describe(first);
  }
  // Each thread keeps its own connection; the barrier starts both posts of
  // one evidence document together.
  std::array<std::unique_ptr<http::Client>, kVerifiers> posters = {Connect(0), Connect(1)};
  ASSERT_TRUE(posters[0] && posters[1]);
  constexpr int kRaces = 20;
  for (int race = 0; race < kRaces; ++race) {
    SimulatedNode& node = *nodes_[static_cast<std::size_t>(race) % nodes_.size()];
    auto issued = clients[race % 2]->Post("/v1/nodes/" + node.node_id() + "/challenges", "{}");
    ASSERT_TRUE(issued.ok()) << issued.error().ToString();
    ASSERT_EQ(issued->status, 201) << issued->body;
    auto challenge = ParseJsonStrict(issued->body);
    ASSERT_TRUE(challenge.ok());
    auto evidence = node.EvidenceFor(*challenge, {});
    ASSERT_TRUE(evidence.ok()) << evidence.error().ToString();

    std::array<Result<http::ClientResponse>, kVerifiers> answers = {
        MakeError(ErrorCode::kInternal, "not sent"), MakeError(ErrorCode::kInternal, "not sent")};
    std::barrier start(static_cast<std::ptrdiff_t>(kVerifiers));
    std::vector<std::thread> threads;
    for (std::size_t v = 0; v < kVerifiers; ++v) {
      threads.emplace_back([&, v] {
        start.arrive_and_wait();
        answers[v] = posters[v]->Post("/v1/nodes/" + node.node_id() + "/evidence", *evidence);
      });
    }
    for (std::thread& thread : threads) thread.join();

    int accepted = 0;
    int refused = 0;
    for (std::size_t v = 0; v < kVerifiers; ++v) {
      ASSERT_TRUE(answers[v].ok()) << "race " << race << ": " << answers[v].error().ToString();
      auto body = ParseJsonStrict(answers[v]->body);
      ASSERT_TRUE(body.ok()) << answers[v]->body;
      if (answers[v]->status == 200) {
        EXPECT_TRUE(BoolMember((*body)["verdict"], "trusted")) << answers[v]->body;
        ++accepted;
      } else {
        EXPECT_EQ(answers[v]->status, 409) << answers[v]->body;
        EXPECT_EQ(ErrorCodeOf(*body), "NONCE_REUSED") << answers[v]->body;
        ++refused;
      }
    }
    EXPECT_EQ(accepted, 1) << "race " << race;
    EXPECT_EQ(refused, 1) << "race " << race;
  }
  // The nonce is spent at both afterwards too.
  SimulatedNode& node = *nodes_[0];
  auto issued = clients[0]->Post("/v1/nodes/" + node.node_id() + "/challenges", "{}");
  ASSERT_TRUE(issued.ok() && issued->status == 201);
  auto challenge = ParseJsonStrict(issued->body);
  ASSERT_TRUE(challenge.ok()) << issued->body;
  auto evidence = node.EvidenceFor(*challenge, {});
  ASSERT_TRUE(evidence.ok());
  auto once = clients[1]->Post("/v1/nodes/" + node.node_id() + "/evidence", *evidence);
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(once->status, 200) << once->body;
  for (std::size_t v = 0; v < kVerifiers; ++v) {
    auto again = clients[v]->Post("/v1/nodes/" + node.node_id() + "/evidence", *evidence);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->status, 409) << again->body;
    auto body = ParseJsonStrict(again->body);
    ASSERT_TRUE(body.ok()) << again->body;
    EXPECT_EQ(ErrorCodeOf(*body), "NONCE_REUSED") << again->body;
  }
}

}  // namespace
}  // namespace attest::service::test
