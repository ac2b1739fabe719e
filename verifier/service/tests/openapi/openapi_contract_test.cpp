// The checker the integration tests use on every response: it must refuse
// what the contract does not allow, or those tests prove nothing.
#include <gtest/gtest.h>

#include "openapi_validator.h"

namespace attest::test {
namespace {

OpenApiContract LoadContract() {
  auto contract = OpenApiContract::Load(ATTEST_OPENAPI_PATH);
  EXPECT_TRUE(contract.ok()) << contract.error().message;
  return std::move(contract).value();
}

const char* const kChallenge =
    R"({"nonce":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",)"
    R"("expires_at":"2026-12-05T08:00:00.000000Z","pcr_selection":"sha256:0-7,15",)"
    R"("boot_log_cached":false})";

TEST(OpenApiContract, AcceptsAResponseThatFollowsItsSchema) {
  const OpenApiContract contract = LoadContract();
  auto status = contract.CheckResponse("POST", "/v1/nodes/abc/challenges", 201,
                                       "application/json", kChallenge);
  EXPECT_TRUE(status.ok()) << status.error().message;
}

TEST(OpenApiContract, RefusesAMissingRequiredMember) {
  const OpenApiContract contract = LoadContract();
  auto status = contract.CheckResponse(
      "POST", "/v1/nodes/abc/challenges", 201, "application/json",
      R"({"nonce":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",)"
      R"("expires_at":"2026-12-05T08:00:00Z","pcr_selection":"sha256:0"})");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("boot_log_cached"), std::string::npos)
      << status.error().message;
}

TEST(OpenApiContract, RefusesAnUndocumentedMember) {
  const OpenApiContract contract = LoadContract();
  std::string body = kChallenge;
  body.insert(1, R"("debug":1,)");
  auto status = contract.CheckResponse("POST", "/v1/nodes/abc/challenges", 201,
                                       "application/json", body);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("$.debug"), std::string::npos) << status.error().message;
}

TEST(OpenApiContract, RefusesAWrongTypePatternAndEnum) {
  const OpenApiContract contract = LoadContract();
  const auto check = [&](const std::string& body) {
    return contract.CheckResponse("POST", "/v1/nodes/abc/challenges", 201, "application/json",
                                  body);
  };
  std::string upper_case_nonce = kChallenge;
  upper_case_nonce.replace(upper_case_nonce.find("aabb"), 4, "AABB");
  EXPECT_FALSE(check(upper_case_nonce).ok());
  std::string string_flag = kChallenge;
  string_flag.replace(string_flag.find("false"), 5, "\"false\"");
  EXPECT_FALSE(check(string_flag).ok());

  auto bad_state = contract.CheckResponse(
      "GET", "/v1/nodes", 200, "application/json",
      R"({"nodes":[{"node_id":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",)"
      R"("hostname":"h","state":"happy","enrolled_at":"2026-12-05T08:00:00Z"}]})");
  ASSERT_FALSE(bad_state.ok());
  EXPECT_NE(bad_state.error().message.find("$.nodes[0].state"), std::string::npos)
      << bad_state.error().message;
}

TEST(OpenApiContract, ErrorsFollowTheErrorSchema) {
  const OpenApiContract contract = LoadContract();
  EXPECT_TRUE(contract
                  .CheckResponse("GET", "/v1/nodes/x", 404, "application/json",
                                 R"({"error":{"code":"NOT_FOUND","message":"no node x"}})")
                  .ok());
  EXPECT_FALSE(contract
                   .CheckResponse("GET", "/v1/nodes/x", 404, "application/json",
                                  R"({"error":"no node"})")
                   .ok());
}

TEST(OpenApiContract, RefusesAnOperationOrMediaTypeItDoesNotList) {
  const OpenApiContract contract = LoadContract();
  EXPECT_FALSE(contract.CheckResponse("DELETE", "/v1/nodes", 200, "application/json", "{}").ok());
  EXPECT_FALSE(contract.CheckResponse("GET", "/v1/unknown", 200, "application/json", "{}").ok());
  EXPECT_FALSE(
      contract.CheckResponse("GET", "/v1/ca/crl", 200, "application/json", "{}").ok());
  EXPECT_TRUE(contract
                  .CheckResponse("GET", "/v1/ca/crl", 200, "application/pkix-crl",
                                 "-----BEGIN X509 CRL-----")
                  .ok());
}

TEST(OpenApiContract, AKeywordTheCheckerDoesNotKnowIsAnError) {
  const OpenApiContract contract = LoadContract();
  auto status = contract.CheckAgainst(Json{{"type", "string"}, {"uniqueItems", true}}, "x");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnsupported);
}

TEST(OpenApiContract, EverySchemaUsesOnlyCheckedKeywords) {
  const OpenApiContract contract = LoadContract();
  ASSERT_GT(contract.document()["components"]["schemas"].size(), 10u);
  auto status = contract.CheckKeywords();
  EXPECT_TRUE(status.ok()) << status.error().message;
}

}  // namespace
}  // namespace attest::test
