// The challenge book against strangers: what they request never voids the
// challenge of a requester holding fewer than they do, and a node always
// gets a challenge (no 429 that would let its trust decay).
#include "challenge_book.h"

#include <string>

#include <gtest/gtest.h>

namespace attest::service::api {
namespace {

constexpr std::chrono::seconds kLifetime{30};

TEST(ChallengeBookTest, StrangersFillingTheBookNeverVoidTheNodesChallenge) {
  ChallengeBook book(/*max_outstanding_per_requester=*/4, /*max_entries_per_node=*/16);
  const TimePoint now = std::chrono::system_clock::now();
  IssuedChallenge own = book.Issue("node", "10.0.0.1", now, kLifetime);
  // Four strangers at their per-address bound fill the book, then keep asking.
  for (int round = 0; round < 50; ++round) {
    for (int stranger = 0; stranger < 4; ++stranger) {
      book.Issue("node", "192.0.2." + std::to_string(stranger), now, kLifetime);
    }
  }
  EXPECT_EQ(book.outstanding(), 16u);
  EXPECT_EQ(book.Redeem("node", own.nonce, now), ChallengeOutcome::kValid);
}

TEST(ChallengeBookTest, AFullBookVoidsTheLargestHoldersOldest) {
  ChallengeBook book(4, 8);
  const TimePoint now = std::chrono::system_clock::now();
  IssuedChallenge first_of_large = book.Issue("node", "large", now, kLifetime);
  for (int i = 0; i < 3; ++i) book.Issue("node", "large", now, kLifetime);
  IssuedChallenge small = book.Issue("node", "small", now, kLifetime);
  for (int i = 0; i < 3; ++i) book.Issue("node", "medium-" + std::to_string(i), now, kLifetime);
  ASSERT_EQ(book.outstanding(), 8u);
  // The book is full of outstanding challenges: a newcomer still gets one,
  // and the one that goes is the oldest of "large".
  IssuedChallenge newcomer = book.Issue("node", "newcomer", now, kLifetime);
  EXPECT_EQ(book.outstanding(), 8u);
  EXPECT_EQ(book.Redeem("node", first_of_large.nonce, now), ChallengeOutcome::kUnknown);
  EXPECT_EQ(book.Redeem("node", small.nonce, now), ChallengeOutcome::kValid);
  EXPECT_EQ(book.Redeem("node", newcomer.nonce, now), ChallengeOutcome::kValid);
}

TEST(ChallengeBookTest, RememberedChallengesGoBeforeAnyOutstandingOne) {
  ChallengeBook book(4, 4);
  const TimePoint now = std::chrono::system_clock::now();
  IssuedChallenge used = book.Issue("node", "a", now, kLifetime);
  IssuedChallenge kept = book.Issue("node", "b", now, kLifetime);
  book.Issue("node", "c", now, kLifetime);
  book.Issue("node", "c", now, kLifetime);
  ASSERT_EQ(book.Redeem("node", used.nonce, now), ChallengeOutcome::kValid);
  book.Issue("node", "d", now, kLifetime);
  // The used one made room; "b" (holding one) kept its challenge.
  EXPECT_EQ(book.Redeem("node", used.nonce, now), ChallengeOutcome::kUnknown);
  EXPECT_EQ(book.Redeem("node", kept.nonce, now), ChallengeOutcome::kValid);
}

}  // namespace
}  // namespace attest::service::api
