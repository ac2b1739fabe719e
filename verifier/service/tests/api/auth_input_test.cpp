// The auth matrix (every endpoint x every role x no token) and bad input:
// malformed JSON and base64, unknown nodes and routes, wrong methods,
// revoked tokens, rate limits, and `verifier init` over a used directory.
#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "attest/encoding.h"
#include "attest/service/operations.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

struct Endpoint {
  std::string method;
  std::string target;
  std::optional<Role> minimum;  // nullopt: no token needed
  std::string body;
};

class AuthInputTest : public ServiceTest {};

TEST_F(AuthInputTest, EveryEndpointAnswersEveryRoleAsItsRoleAllows) {
  const std::string absent(64, 'a');
  const std::vector<Endpoint> endpoints = {
      {"GET", "/v1/nodes", Role::kReader, ""},
      {"GET", "/v1/nodes?state=trusted&limit=5", Role::kReader, ""},
      {"GET", "/v1/nodes/" + absent, Role::kReader, ""},
      {"GET", "/v1/policy", Role::kReader, ""},
      {"GET", "/v1/ledger/entries?from=1&to=2", Role::kReader, ""},
      {"GET", "/v1/ledger/checkpoint", Role::kReader, ""},
      {"GET", "/v1/ledger/proofs/inclusion?seq=1", Role::kReader, ""},
      {"GET", "/v1/ledger/proofs/consistency?from=1&to=2", Role::kReader, ""},
      {"GET", "/v1/ledger/export", Role::kReader, ""},
      {"POST", "/v1/nodes/" + absent + "/revoke", Role::kOperator, ""},
      {"POST", "/v1/nodes/" + absent + "/approve", Role::kOperator, ""},
      {"PUT", "/v1/policy", Role::kAdmin, "{}"},
      {"POST", "/v1/tokens", Role::kAdmin, R"({"role":"reader"})"},
      {"GET", "/v1/tokens", Role::kAdmin, ""},
      {"DELETE", "/v1/tokens/0123456789abcdef", Role::kAdmin, ""},
      {"GET", "/healthz", std::nullopt, ""},
      {"GET", "/metrics", std::nullopt, ""},
      {"GET", "/v1/ca/certificates", std::nullopt, ""},
      {"GET", "/v1/ca/crl", std::nullopt, ""},
      {"GET", "/v1/webhooks/key", std::nullopt, ""},
      {"POST", "/v1/enrollments", std::nullopt, "{}"},
      {"POST", "/v1/nodes/" + absent + "/challenges", std::nullopt, ""},
      {"POST", "/v1/nodes/" + absent + "/evidence", std::nullopt, "{}"},
  };
  const std::vector<std::pair<std::string, std::optional<Role>>> callers = {
      {"", std::nullopt},
      {MakeToken(Role::kReader), Role::kReader},
      {MakeToken(Role::kOperator), Role::kOperator},
      {admin_token_, Role::kAdmin},
  };
  int checked = 0;
  for (const Endpoint& endpoint : endpoints) {
    for (const auto& [token, role] : callers) {
      http::Response response = Call(endpoint.method, endpoint.target, endpoint.body, token);
      std::string what = endpoint.method + " " + endpoint.target + " as " +
                         (role ? std::string(RoleName(*role)) : "nobody") + ": " + Str(response);
      if (!endpoint.minimum) {
        EXPECT_NE(response.status, 401) << what;
        EXPECT_NE(response.status, 403) << what;
      } else if (!role) {
        EXPECT_EQ(response.status, 401) << what;
        EXPECT_EQ(ErrorCodeOf(response), "UNAUTHENTICATED") << what;
      } else if (static_cast<int>(*role) < static_cast<int>(*endpoint.minimum)) {
        EXPECT_EQ(response.status, 403) << what;
        EXPECT_EQ(ErrorCodeOf(response), "FORBIDDEN") << what;
      } else {
        EXPECT_NE(response.status, 401) << what;
        EXPECT_NE(response.status, 403) << what;
        EXPECT_LT(response.status, 500) << what;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 92);
}

TEST_F(AuthInputTest, BadAndRevokedTokensAreRefused) {
  EXPECT_EQ(Call("GET", "/v1/nodes", "", "not-a-token").status, 401);
  std::string reader = MakeToken(Role::kReader);
  std::string forged = reader;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call("GET", "/v1/nodes", "", forged).status, 401);
  http::Request basic;
  basic.method = "GET";
  basic.path = basic.target = "/v1/nodes";
  basic.headers.emplace_back("authorization", "Basic " + reader);
  EXPECT_EQ(service_->Handle(basic).status, 401);

  Json tokens = Expect(200, "GET", "/v1/tokens", "", admin_token_);
  std::string id;
  for (const Json& token : tokens["tokens"]) {
    if (token["role"] == "reader") id = token["token_id"];
  }
  ASSERT_FALSE(id.empty());
  Expect(200, "GET", "/v1/nodes", "", reader);
  Expect(200, "DELETE", "/v1/tokens/" + id, "", admin_token_);
  EXPECT_EQ(Call("GET", "/v1/nodes", "", reader).status, 401);
  // The CLI's way to the same.
  auto created = CreateToken(state_dir_, Role::kOperator, "cli", clock_);
  ASSERT_TRUE(created.ok());
  Expect(200, "GET", "/v1/nodes", "", created->token);
  ASSERT_TRUE(RevokeToken(state_dir_, created->record.token_id, clock_).ok());
  EXPECT_EQ(Call("GET", "/v1/nodes", "", created->token).status, 401);
  std::vector<std::string> kinds = LedgerKinds();
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "token.revoked"), 2);
}

TEST_F(AuthInputTest, MalformedBodiesAreBadRequestsWithAReasonCode) {
  const SimulatedNode& node = *nodes_[0];
  auto code = [&](const std::string& body) {
    http::Response response = Call("POST", "/v1/enrollments", body);
    EXPECT_EQ(response.status, 400) << body << ": " << response.body;
    return ErrorCodeOf(response);
  };
  EXPECT_EQ(code("{"), "MALFORMED_JSON");
  EXPECT_EQ(code("[]"), "MALFORMED_JSON");
  EXPECT_EQ(code(R"({"a":1,"a":2})"), "MALFORMED_JSON");
  Json body = node.EnrollmentBody();
  body["ek_public"] = "not base64!";
  EXPECT_EQ(code(body.dump()), "MALFORMED_BASE64");
  body = node.EnrollmentBody();
  body.erase("ak_public");
  EXPECT_EQ(code(body.dump()), "INVALID_FIELD");
  body = node.EnrollmentBody();
  body["extra"] = 1;
  EXPECT_EQ(code(body.dump()), "INVALID_FIELD");
  body = node.EnrollmentBody();
  body["ek_public"] = Base64Encode(Bytes(10, 1));
  EXPECT_EQ(code(body.dump()), "EK_MALFORMED");
  body = node.EnrollmentBody();
  body["ak_public"] = node.EnrollmentBody()["ek_public"];  // a storage key is no AK
  EXPECT_EQ(code(body.dump()), "AK_REJECTED");

  Enroll(node);
  http::Response evidence =
      Call("POST", "/v1/nodes/" + node.node_id() + "/evidence", R"({"nonce":"zz"})");
  EXPECT_EQ(evidence.status, 400);
  EXPECT_EQ(ErrorCodeOf(evidence), "EVIDENCE_MALFORMED");
  http::Response activation = Call("POST", "/v1/enrollments/0011/activate", R"({"secret":"@"})");
  EXPECT_EQ(ErrorCodeOf(activation), "MALFORMED_BASE64");
}

TEST_F(AuthInputTest, UnknownNodesRoutesAndMethods) {
  std::string reader = MakeToken(Role::kReader);
  for (const std::string& id :
       {std::string(64, 'b'), std::string("not-a-node"), std::string(64, 'B')}) {
    http::Response challenge = Call("POST", "/v1/nodes/" + id + "/challenges");
    EXPECT_EQ(challenge.status, 404) << id;
    EXPECT_EQ(ErrorCodeOf(challenge), "NOT_FOUND");
    EXPECT_EQ(Call("GET", "/v1/nodes/" + id, "", reader).status, 404) << id;
  }
  EXPECT_EQ(
      Call("POST", "/v1/enrollments/" + std::string(32, 'c') + "/activate", R"({"secret":"AAAA"})")
          .status,
      404);
  http::Response route = Call("GET", "/v1/nothing");
  EXPECT_EQ(route.status, 404);
  EXPECT_EQ(ErrorCodeOf(route), "NOT_FOUND");
  EXPECT_EQ(Call("GET", "/v1/nodes/", "", reader).status, 404);
  http::Response method = Call("GET", "/v1/enrollments");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(ErrorCodeOf(method), "METHOD_NOT_ALLOWED");
  ASSERT_EQ(method.headers.size(), 1u);
  EXPECT_EQ(method.headers[0].first, "Allow");
  EXPECT_EQ(method.headers[0].second, "POST");
  http::Response query = Call("GET", "/v1/nodes?state=sleeping", "", reader);
  EXPECT_EQ(ErrorCodeOf(query), "INVALID_QUERY");
}

TEST_F(AuthInputTest, UnauthenticatedEndpointsAreRateLimitedPerAddressAndNode) {
  config_.rate_limit.per_second = 0.01;
  config_.rate_limit.burst = 2;
  Open();
  const SimulatedNode& node = *nodes_[0];
  const std::string body = node.EnrollmentBody().dump();
  EXPECT_EQ(Call("POST", "/v1/enrollments", body, "", "192.0.2.1").status, 201);
  EXPECT_EQ(Call("POST", "/v1/enrollments", body, "", "192.0.2.1").status, 201);
  http::Response limited = Call("POST", "/v1/enrollments", body, "", "192.0.2.1");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(ErrorCodeOf(limited), "RATE_LIMITED");
  ASSERT_EQ(limited.headers.size(), 1u);
  EXPECT_EQ(limited.headers[0].first, "Retry-After");
  EXPECT_GE(std::stoi(limited.headers[0].second), 1);
  // Another address is limited by the node's own bucket, which two spent.
  http::Response by_node = Call("POST", "/v1/enrollments", body, "", "192.0.2.2");
  EXPECT_EQ(by_node.status, 429);
  // Another node from another address is not limited.
  EXPECT_EQ(
      Call("POST", "/v1/enrollments", nodes_[1]->EnrollmentBody().dump(), "", "192.0.2.3").status,
      201);
  // Tokens refill with time.
  clock_.Advance(std::chrono::seconds(200));
  EXPECT_EQ(Call("POST", "/v1/enrollments", body, "", "192.0.2.1").status, 201);
}

TEST_F(AuthInputTest, InitRefusesADirectoryInUse) {
  InitOptions again;
  again.state_dir = state_dir_;
  auto refused = InitStateDirectory(again, clock_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kAlreadyExists);
  struct stat info {};
  ASSERT_EQ(::stat(state_dir_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((state_dir_ + "/ledger.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((state_dir_ + "/webhook.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((state_dir_ + "/challenge.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(info.st_size, 32);
}

}  // namespace
}  // namespace attest::service::test
