// attestd's client with several verifiers, over real TLS on 127.0.0.1: it
// skips a verifier it cannot reach within the same request, stays with the
// one that answers, and moves on after a 503 or a connection lost mid-request.
#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "attest/attestd/config.h"
#include "attest/attestd/verifier_client.h"
#include "attest/http/server.h"

#include "test_certificates.h"

namespace attest::attestd {
namespace {

// One verifier stand-in: answers every request with `status` and counts them.
struct FakeVerifier {
  std::atomic<int> status{200};
  std::atomic<int> requests{0};
  std::unique_ptr<http::Server> server;
};

class VerifierFailoverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);
    pki_ = new http::test::TestPki();
    http::test::MakeTestPki(*pki_);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  // `trusted`: its certificate chains to the CA attestd trusts; otherwise
  // the TLS handshake fails, as with a verifier attestd cannot authenticate.
  static void Start(FakeVerifier& verifier, bool trusted = true) {
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.certificate_chain_path = trusted ? pki_->server_chain : pki_->stranger_chain;
    options.private_key_path = trusted ? pki_->server_key : pki_->stranger_key;
    FakeVerifier* target = &verifier;
    auto server = http::Server::Start(options, [target](const http::Request&) {
      ++target->requests;
      http::Response response;
      response.status = target->status.load();
      response.content_type = "application/json";
      response.body = "{}";
      return response;
    });
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    verifier.server = std::move(server).value();
  }

  static std::string UrlOf(const FakeVerifier& verifier) {
    return "https://127.0.0.1:" + std::to_string(verifier.server->port());
  }

  static AttestdConfig ConfigFor(std::initializer_list<const FakeVerifier*> verifiers) {
    AttestdConfig config;
    for (const FakeVerifier* verifier : verifiers) {
      Result<VerifierEndpoint> endpoint = ParseVerifierUrl(UrlOf(*verifier));
      EXPECT_TRUE(endpoint.ok());
      if (endpoint.ok()) config.verifiers.push_back(std::move(endpoint).value());
    }
    config.verifier_ca_bundle = pki_->server_ca;
    config.request_timeout = std::chrono::seconds(5);
    return config;
  }

  static http::test::TestPki* pki_;
};

http::test::TestPki* VerifierFailoverTest::pki_ = nullptr;

TEST_F(VerifierFailoverTest, AnUnreachableVerifierIsSkippedWithinTheSameRequest) {
  FakeVerifier unauthenticated, second;
  Start(unauthenticated, /*trusted=*/false);
  Start(second);
  VerifierClient client(ConfigFor({&unauthenticated, &second}));
  Result<ApiResponse> answer = client.Get("/healthz");
  ASSERT_TRUE(answer.ok()) << answer.error().ToString();
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(second.requests, 1);
  EXPECT_EQ(unauthenticated.requests, 0);  // never past its handshake
  EXPECT_EQ(client.url(), UrlOf(second));
}

TEST_F(VerifierFailoverTest, TheClientStaysWithTheVerifierThatAnswers) {
  FakeVerifier first, second;
  Start(first);
  Start(second);
  VerifierClient client(ConfigFor({&first, &second}));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.Get("/healthz").ok());
  client.Disconnect();  // a new connection goes to the same verifier
  ASSERT_TRUE(client.Get("/healthz").ok());
  EXPECT_EQ(first.requests, 4);
  EXPECT_EQ(second.requests, 0);
}

TEST_F(VerifierFailoverTest, A503FailsThisRequestAndTheNextGoesToTheNextVerifier) {
  FakeVerifier first, second;
  Start(first);
  Start(second);
  first.status = 503;  // its database is out of reach
  VerifierClient client(ConfigFor({&first, &second}));
  Result<ApiResponse> refused = client.Post("/v1/attestations", "{}");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);  // the caller decides; nothing is resent by itself
  EXPECT_EQ(second.requests, 0);
  ASSERT_TRUE(client.Get("/healthz").ok());
  EXPECT_EQ(second.requests, 1);
  // And round again when the second one fails too.
  second.status = 503;
  first.status = 200;
  EXPECT_EQ(client.Get("/healthz")->status, 503);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  EXPECT_EQ(first.requests, 2);
}

TEST_F(VerifierFailoverTest, AVerifierThatGoesAwayIsLeftForTheNext) {
  FakeVerifier first, second;
  Start(first);
  Start(second);
  VerifierClient client(ConfigFor({&first, &second}));
  ASSERT_TRUE(client.Get("/healthz").ok());
  first.server->Drain(std::chrono::milliseconds(0));
  first.server.reset();
  // The kept-alive connection is gone. Whether the client learns it on this
  // request (an error: the request may have been sent) or at connect
  // (skipped at once), the request after it reaches the second verifier.
  Result<ApiResponse> during = client.Get("/healthz");
  if (!during.ok()) {
    EXPECT_EQ(during.error().code, ErrorCode::kIo);
    ASSERT_TRUE(client.Get("/healthz").ok());
  }
  EXPECT_EQ(second.requests, 1);
  EXPECT_EQ(client.url(), UrlOf(second));
}

TEST_F(VerifierFailoverTest, WhenNoVerifierCanBeReachedTheErrorNamesEachOne) {
  FakeVerifier first, second;
  Start(first, /*trusted=*/false);
  Start(second, /*trusted=*/false);
  VerifierClient client(ConfigFor({&first, &second}));
  Result<ApiResponse> answer = client.Get("/healthz");
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, ErrorCode::kIo);
  EXPECT_NE(answer.error().message.find("cannot reach any verifier"), std::string::npos);
  EXPECT_NE(answer.error().message.find(UrlOf(first)), std::string::npos);
  EXPECT_NE(answer.error().message.find(UrlOf(second)), std::string::npos);
}

}  // namespace
}  // namespace attest::attestd
