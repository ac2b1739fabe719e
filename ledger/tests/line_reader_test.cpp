#include "src/line_reader.h"

#include <sstream>

#include <gtest/gtest.h>

namespace attest::ledger {
namespace {

using Outcome = LineReader::Outcome;

TEST(LineReaderTest, SplitsLinesAndReportsAnUnterminatedTail) {
  std::istringstream input("one\ntwo\r\n\nlast");
  LineReader reader(input, 100);
  std::string line;
  EXPECT_EQ(reader.Next(line), Outcome::kLine);
  EXPECT_EQ(line, "one");
  EXPECT_EQ(reader.Next(line), Outcome::kLine);
  EXPECT_EQ(line, "two\r");  // JSON treats the CR as whitespace
  EXPECT_EQ(reader.Next(line), Outcome::kLine);
  EXPECT_EQ(line, "");
  EXPECT_EQ(reader.Next(line), Outcome::kUnterminated);
  EXPECT_EQ(line, "last");
  EXPECT_EQ(reader.line_number(), 4u);
  EXPECT_EQ(reader.Next(line), Outcome::kEnd);
}

TEST(LineReaderTest, SkipsOverlongLinesWithoutHoldingThem) {
  // Longer than both the cap and the reader's 64 KiB chunks.
  std::string text = "short\n" + std::string(300000, 'x') + "\nafter\n" + std::string(200, 'y');
  std::istringstream input(text);
  LineReader reader(input, 1000);
  std::string line;
  EXPECT_EQ(reader.Next(line), Outcome::kLine);
  EXPECT_EQ(reader.Next(line), Outcome::kTooLong);
  EXPECT_EQ(reader.line_number(), 2u);
  EXPECT_EQ(reader.Next(line), Outcome::kLine);
  EXPECT_EQ(line, "after");
  EXPECT_EQ(reader.Next(line), Outcome::kUnterminated);
  EXPECT_EQ(line.size(), 200u);
  EXPECT_EQ(reader.Next(line), Outcome::kEnd);
}

TEST(LineReaderTest, OverlongUnterminatedTailIsTooLong) {
  std::istringstream input("ok\n" + std::string(5000, 'z'));
  LineReader reader(input, 1000);
  std::string line;
  EXPECT_EQ(reader.Next(line), Outcome::kLine);
  EXPECT_EQ(reader.Next(line), Outcome::kTooLong);
  EXPECT_EQ(reader.Next(line), Outcome::kEnd);
}

TEST(LineReaderTest, EmptyInput) {
  std::istringstream input("");
  LineReader reader(input, 10);
  std::string line;
  EXPECT_EQ(reader.Next(line), Outcome::kEnd);
  EXPECT_EQ(reader.line_number(), 0u);
}

}  // namespace
}  // namespace attest::ledger
