// Minted challenge nonces (challenge_nonce.h): each opens only for the node
// it names, under the key that minted it, unaltered; the key file is made
// private and read back only when it is a key.
#include "challenge_nonce.h"

#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "attest/testing/test_support.h"

namespace attest::service::api {
namespace {

const std::string kNode(64, 'a');
const std::string kOtherNode(64, 'b');

Bytes Key(std::uint8_t fill) { return Bytes(kChallengeKeyBytes, fill); }

TimePoint Expiry() {
  // Microsecond-aligned, as the nonce carries it.
  return TimePoint(std::chrono::microseconds(1'790'000'000'123'456));
}

TEST(ChallengeNonceTest, OpensForItsNodeUnderItsKeyWithItsExpiry) {
  auto nonce = MintChallengeNonce(Key(1), kNode, Expiry());
  ASSERT_TRUE(nonce.ok()) << nonce.error().ToString();
  EXPECT_EQ(nonce->size(), kChallengeNonceBytes);
  std::optional<TimePoint> opened = OpenChallengeNonce(Key(1), kNode, *nonce);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, Expiry());
}

TEST(ChallengeNonceTest, TwoNoncesForTheSameNodeAndExpiryDiffer) {
  auto first = MintChallengeNonce(Key(1), kNode, Expiry());
  auto second = MintChallengeNonce(Key(1), kNode, Expiry());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
}

TEST(ChallengeNonceTest, AnotherNodeOrAnotherKeyDoesNotOpenIt) {
  auto nonce = MintChallengeNonce(Key(1), kNode, Expiry());
  ASSERT_TRUE(nonce.ok());
  EXPECT_FALSE(OpenChallengeNonce(Key(1), kOtherNode, *nonce).has_value());
  EXPECT_FALSE(OpenChallengeNonce(Key(2), kNode, *nonce).has_value());
}

// Every bit counts: the random part, the expiry (a later one would stretch
// the nonce's life) and the tag.
TEST(ChallengeNonceTest, AnyAlteredBitDoesNotOpen) {
  auto nonce = MintChallengeNonce(Key(1), kNode, Expiry());
  ASSERT_TRUE(nonce.ok());
  for (std::size_t byte = 0; byte < nonce->size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes altered = *nonce;
      altered[byte] ^= static_cast<std::uint8_t>(1u << bit);
      EXPECT_FALSE(OpenChallengeNonce(Key(1), kNode, altered).has_value())
          << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(ChallengeNonceTest, AnyOtherLengthDoesNotOpen) {
  auto nonce = MintChallengeNonce(Key(1), kNode, Expiry());
  ASSERT_TRUE(nonce.ok());
  Bytes shorter(nonce->begin(), nonce->end() - 1);
  Bytes longer = *nonce;
  longer.push_back(0);
  EXPECT_FALSE(OpenChallengeNonce(Key(1), kNode, shorter).has_value());
  EXPECT_FALSE(OpenChallengeNonce(Key(1), kNode, longer).has_value());
  EXPECT_FALSE(OpenChallengeNonce(Key(1), kNode, Bytes()).has_value());
  EXPECT_FALSE(OpenChallengeNonce(Key(1), kNode, Bytes(32, 0)).has_value());
}

TEST(ChallengeKeyTest, IsMadePrivateOnceAndReadBack) {
  attest::test::TempDir dir;
  const std::string path = dir.File("challenge.key");
  ASSERT_TRUE(CreateChallengeKey(path).ok());
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto key = LoadChallengeKey(path);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(key->size(), kChallengeKeyBytes);
  Status again = CreateChallengeKey(path);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
}

TEST(ChallengeKeyTest, AFileThatIsNotAPrivateKeyIsRefusedNamingIt) {
  attest::test::TempDir dir;
  const std::string path = dir.File("challenge.key");
  auto missing = LoadChallengeKey(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  for (std::size_t size : {std::size_t{0}, std::size_t{31}, std::size_t{33}}) {
    ::unlink(path.c_str());
    attest::test::WriteText(path, std::string(size, 'k'));
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    auto refused = LoadChallengeKey(path);
    ASSERT_FALSE(refused.ok()) << size;
    EXPECT_NE(refused.error().message.find(path), std::string::npos) << refused.error().message;
  }
  ::unlink(path.c_str());
  attest::test::WriteText(path, std::string(32, 'k'));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto readable = LoadChallengeKey(path);
  ASSERT_FALSE(readable.ok());
  EXPECT_EQ(readable.error().code, ErrorCode::kPermissionDenied);
}

// The row a challenge was minted from is taken once, by its own node's
// evidence: evidence posted with the nonce under another node's path leaves
// it for the node.
TEST(MintedChallengesTest, TheRowIsTakenOnceAndOnlyForItsNode) {
  MintedChallenges minted;
  const Bytes nonce(kChallengeNonceBytes, 0x5a);
  minted.Remember(nonce, kNode, MintedRow{7, 700});
  EXPECT_FALSE(minted.Take(nonce, kOtherNode).has_value());
  std::optional<MintedRow> row = minted.Take(nonce, kNode);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->version, 7);
  EXPECT_EQ(row->row_token, 700);
  EXPECT_FALSE(minted.Take(nonce, kNode).has_value()) << "an answer comes once";
  minted.Remember(nonce, kNode, *row);  // put back after an unjudged answer
  EXPECT_TRUE(minted.Take(nonce, kNode).has_value());
}

}  // namespace
}  // namespace attest::service::api
