// Activations racing on one enrollment (review L2): wrong secrets sent at
// once must all be counted, and no attempt that read the enrollment before
// another activated it may write it back to pending, so a secret works once.
// Each round starts its requests together from several threads, as the
// server's worker threads would run them.
#include <fstream>
#include <latch>
#include <thread>

#include <gtest/gtest.h>

#include "attest/encoding.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

constexpr int kRounds = 6;

class EnrollmentRaceTest : public ServiceTest {
 protected:
  // A node of its own for each round, on the EK allowlist.
  void AddNodes(int count) {
    std::ofstream allowlist(dir_.File("allowlist"), std::ios::app);
    for (int i = 0; i < count; ++i) {
      racers_.push_back(std::make_unique<SimulatedNode>("racer-" + std::to_string(i) + ".example",
                                                        measurements_, EkKind::kEccP256));
      allowlist << racers_.back()->node_id() << "\n";
    }
    allowlist.close();
    Open();
  }

  // Each body POSTed to the enrollment's activate route at once; the
  // responses in the same order.
  std::vector<http::Response> ActivateAtOnce(const std::string& enrollment_id,
                                             const std::vector<std::string>& secrets) {
    std::vector<http::Response> responses(secrets.size());
    std::latch start(static_cast<std::ptrdiff_t>(secrets.size()));
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < secrets.size(); ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        responses[i] =
            Call("POST", "/v1/enrollments/" + enrollment_id + "/activate",
                 Json{{"secret", secrets[i]}}.dump(), "", "10.0.0." + std::to_string(i + 1));
      });
    }
    for (std::thread& thread : threads) thread.join();
    return responses;
  }

  std::vector<std::unique_ptr<SimulatedNode>> racers_;
};

const std::string kWrongSecret = Base64Encode(Bytes(32, 0x5a));

TEST_F(EnrollmentRaceTest, ConcurrentWrongSecretsAreEachCounted) {
  AddNodes(kRounds);
  for (int round = 0; round < kRounds; ++round) {
    const SimulatedNode& node = *racers_[static_cast<std::size_t>(round)];
    Json enrollment = Expect(201, "POST", "/v1/enrollments", node.EnrollmentBody().dump());
    const std::string id = enrollment["enrollment_id"].get<std::string>();
    const std::string secret = Base64Encode(node.ActivateCredential(enrollment).value());
    for (const http::Response& response :
         ActivateAtOnce(id, {kWrongSecret, kWrongSecret, kWrongSecret})) {
      EXPECT_EQ(response.status, 403) << "round " << round << ": " << Str(response);
      EXPECT_EQ(ErrorCodeOf(response), "SECRET_MISMATCH") << Str(response);
    }
    // Three failures counted: the enrollment is spent, the right secret too.
    http::Response after =
        Call("POST", "/v1/enrollments/" + id + "/activate", Json{{"secret", secret}}.dump());
    EXPECT_EQ(after.status, 409) << "round " << round << ": " << Str(after);
    EXPECT_EQ(ErrorCodeOf(after), "ENROLLMENT_FAILED") << Str(after);
  }
}

TEST_F(EnrollmentRaceTest, ASecretActivatesOnceWhateverRacesIt) {
  AddNodes(kRounds);
  for (int round = 0; round < kRounds; ++round) {
    const SimulatedNode& node = *racers_[static_cast<std::size_t>(round)];
    Json enrollment = Expect(201, "POST", "/v1/enrollments", node.EnrollmentBody().dump());
    const std::string id = enrollment["enrollment_id"].get<std::string>();
    const std::string secret = Base64Encode(node.ActivateCredential(enrollment).value());
    int activated = 0;
    for (const http::Response& response :
         ActivateAtOnce(id, {secret, kWrongSecret, secret, kWrongSecret})) {
      if (response.status == 200) {
        ++activated;
      } else {
        EXPECT_TRUE(response.status == 403 || response.status == 409)
            << "round " << round << ": " << Str(response);
      }
    }
    // Two wrong secrets leave one attempt: the secret activates exactly once.
    EXPECT_EQ(activated, 1) << "round " << round;
    // Whatever the order was, it does not work again.
    http::Response again =
        Call("POST", "/v1/enrollments/" + id + "/activate", Json{{"secret", secret}}.dump());
    EXPECT_EQ(again.status, 409) << "round " << round << ": " << Str(again);
    EXPECT_EQ(ErrorCodeOf(again), "ENROLLMENT_USED") << Str(again);
  }
}

}  // namespace
}  // namespace attest::service::test
