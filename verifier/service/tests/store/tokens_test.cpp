// API tokens: their shape, what ParseToken refuses, and matching.
#include "attest/service/tokens.h"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace attest::service {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'790'000'000));

TEST(TokensTest, AGeneratedTokenHasTheDocumentedShapeAndRecord) {
  NewToken created = GenerateToken(Role::kAdmin, "bootstrap", kNow);
  EXPECT_TRUE(std::regex_match(created.token, std::regex("vt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")))
      << created.token;
  EXPECT_EQ(created.token.substr(3, 16), created.record.token_id);
  EXPECT_EQ(created.record.role, Role::kAdmin);
  EXPECT_EQ(created.record.label, "bootstrap");
  EXPECT_EQ(created.record.created_at, kNow);
  EXPECT_EQ(created.record.secret_digest.size(), 32u);
  EXPECT_FALSE(created.record.revoked_at.has_value());
  EXPECT_EQ(created.token.find(std::string(created.record.secret_digest.begin(),
                                           created.record.secret_digest.end())),
            std::string::npos);
}

TEST(TokensTest, TokensDiffer) {
  std::set<std::string> tokens, ids;
  for (int i = 0; i < 50; ++i) {
    NewToken created = GenerateToken(Role::kReader, "", kNow);
    tokens.insert(created.token);
    ids.insert(created.record.token_id);
  }
  EXPECT_EQ(tokens.size(), 50u);
  EXPECT_EQ(ids.size(), 50u);
}

TEST(TokensTest, AParsedTokenMatchesItsRecord) {
  NewToken created = GenerateToken(Role::kOperator, "ops", kNow);
  auto presented = ParseToken(created.token);
  ASSERT_TRUE(presented.has_value());
  EXPECT_EQ(presented->token_id, created.record.token_id);
  EXPECT_EQ(presented->secret_digest, created.record.secret_digest);
  EXPECT_TRUE(TokenMatches(created.record, *presented));
}

TEST(TokensTest, AnotherSecretOrIdDoesNotMatch) {
  NewToken created = GenerateToken(Role::kOperator, "ops", kNow);
  NewToken other = GenerateToken(Role::kOperator, "ops", kNow);
  auto presented = ParseToken(other.token);
  ASSERT_TRUE(presented.has_value());
  EXPECT_FALSE(TokenMatches(created.record, *presented));

  // The right secret under another id.
  auto own = ParseToken(created.token);
  ASSERT_TRUE(own.has_value());
  own->token_id = other.record.token_id;
  EXPECT_FALSE(TokenMatches(created.record, *own));

  // A record with a digest of the wrong length never matches.
  auto again = ParseToken(created.token);
  ASSERT_TRUE(again.has_value());
  TokenRecord truncated = created.record;
  truncated.secret_digest.resize(16);
  again->secret_digest.resize(16);
  EXPECT_FALSE(TokenMatches(truncated, *again));
}

TEST(TokensTest, ARevokedTokenNeverMatches) {
  NewToken created = GenerateToken(Role::kAdmin, "", kNow);
  auto presented = ParseToken(created.token);
  ASSERT_TRUE(presented.has_value());
  created.record.revoked_at = kNow;
  EXPECT_FALSE(TokenMatches(created.record, *presented));
}

TEST(TokensTest, ParseRefusesAnythingElse) {
  const std::string good = GenerateToken(Role::kReader, "", kNow).token;
  ASSERT_TRUE(ParseToken(good).has_value());
  std::string upper_id = good;
  upper_id[3] = 'A';
  std::string bad_separator = good;
  bad_separator[19] = '-';
  std::string bad_char = good;
  bad_char[30] = '+';
  std::string padded = good.substr(0, good.size() - 1) + "=";
  // The last of 43 characters carries 2 bits beyond the 256: they must be zero.
  std::string noncanonical = good;
  noncanonical.back() = 'B';
  std::string canonical = good;
  canonical.back() = 'A';
  ASSERT_TRUE(ParseToken(canonical).has_value());
  for (const std::string& bad :
       {std::string(), std::string("vt_"), good.substr(1), "xt" + good.substr(2), good + "A",
        good.substr(0, good.size() - 1), upper_id, bad_separator, bad_char, padded, noncanonical,
        std::string(10000, 'v'), "Bearer " + good, good + "\n"}) {
    EXPECT_FALSE(ParseToken(bad).has_value()) << "accepted: " << bad.substr(0, 80);
  }
}

}  // namespace
}  // namespace attest::service
