#include "src/line_reader.h"

#include <cstring>

namespace attest::ledger {

bool LineReader::Refill() {
  if (eof_) return false;
  buffer_.erase(0, position_);
  position_ = 0;
  constexpr std::size_t kChunk = 64 << 10;
  std::size_t old_size = buffer_.size();
  buffer_.resize(old_size + kChunk);
  input_.read(buffer_.data() + old_size, static_cast<std::streamsize>(kChunk));
  auto got = static_cast<std::size_t>(input_.gcount());
  buffer_.resize(old_size + got);
  if (got < kChunk) eof_ = true;
  return got > 0;
}

LineReader::Outcome LineReader::Next(std::string& line) {
  bool skipping = false;
  std::size_t scanned = 0;  // bytes of the current line already searched
  while (true) {
    const char* start = buffer_.data() + position_;
    std::size_t available = buffer_.size() - position_;
    const void* newline =
        available > scanned ? std::memchr(start + scanned, '\n', available - scanned) : nullptr;
    if (newline != nullptr) {
      auto length = static_cast<std::size_t>(static_cast<const char*>(newline) - start);
      ++line_number_;
      position_ += length + 1;
      if (skipping || length > max_line_bytes_) return Outcome::kTooLong;
      line.assign(start, length);
      return Outcome::kLine;
    }
    if (available > max_line_bytes_) {  // drop what we have and keep looking for the end
      skipping = true;
      position_ = buffer_.size();
      scanned = 0;
    } else {
      scanned = available;
    }
    if (!Refill()) {
      if (input_.bad()) return Outcome::kReadError;
      if (skipping) {
        ++line_number_;
        return Outcome::kTooLong;
      }
      if (buffer_.size() == position_) return Outcome::kEnd;
      ++line_number_;
      line.assign(buffer_.data() + position_, buffer_.size() - position_);
      position_ = buffer_.size();
      return Outcome::kUnterminated;
    }
  }
}

}  // namespace attest::ledger
