// Reads newline-terminated lines from a stream with a hard cap on line
// length, so a hostile file cannot make the reader allocate without bound.
#pragma once

#include <cstdint>
#include <istream>
#include <string>

namespace attest::ledger {

class LineReader {
 public:
  LineReader(std::istream& input, std::size_t max_line_bytes)
      : input_(input), max_line_bytes_(max_line_bytes) {}

  enum class Outcome {
    kLine,          // `line` holds a complete line (newline removed)
    kUnterminated,  // `line` holds the file's last bytes, which lack a newline
    kTooLong,       // the line exceeded the cap; it was skipped
    kEnd,           // nothing left
    kReadError,
  };
  Outcome Next(std::string& line);
  std::uint64_t line_number() const { return line_number_; }

 private:
  bool Refill();

  std::istream& input_;
  const std::size_t max_line_bytes_;
  std::string buffer_;
  std::size_t position_ = 0;
  bool eof_ = false;
  std::uint64_t line_number_ = 0;
};

}  // namespace attest::ledger
