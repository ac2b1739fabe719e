#include "key_file_parse.h"

#include <algorithm>

namespace attest::signer::internal {
namespace {

constexpr std::size_t kMaxDepth = 2;  // the key file and its "encryption" object
constexpr std::size_t kMaxNameBytes = 32;
constexpr std::uint64_t kMaxInteger = std::uint64_t{1} << 53;  // exact in a double (I-JSON)

bool IsNameByte(std::uint8_t c) { return (c >= 'a' && c <= 'z') || c == '_'; }

// Recursive descent over `text_`, never copying a value's bytes.
class Reader {
 public:
  Reader(ByteView text, std::string_view name) : text_(text), name_(name) {}

  Result<KeyFileValue> Document() {
    SkipWhitespace();
    if (Peek() != '{') return Fail("the file does not start with a JSON object");
    ATTEST_ASSIGN_OR_RETURN(KeyFileValue document, Object(1));
    SkipWhitespace();
    if (at_ != text_.size()) return Fail("text after the JSON object");
    return document;
  }

 private:
  Error Fail(std::string_view what) const {
    std::string hint = at_ >= text_.size() ? "; truncated?" : "";
    return MakeError(ErrorCode::kCorrupt, std::string(name_) + ": not a key file (" +
                                              std::string(what) + " at byte " +
                                              std::to_string(at_) + hint + ")");
  }
  int Peek() const { return at_ < text_.size() ? text_[at_] : -1; }
  void SkipWhitespace() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }
  Status Expect(char c, std::string_view what) {
    SkipWhitespace();
    if (Peek() != c) return Fail(what);
    ++at_;
    return OkStatus();
  }

  Result<KeyFileValue> Value(std::size_t depth) {
    SkipWhitespace();
    int c = Peek();
    if (c == '"') {
      KeyFileValue value;
      value.type = KeyFileValue::Type::kString;
      ATTEST_ASSIGN_OR_RETURN(value.text, String());
      return value;
    }
    if (c == '{') {
      if (depth >= kMaxDepth) return Fail("an object nested too deep");
      return Object(depth + 1);
    }
    if (c >= '0' && c <= '9') return Integer();
    if (c == '-') return Fail("a negative number");
    if (text_.size() - at_ >= 4 && AsText(text_.subspan(at_, 4)) == "null") {
      at_ += 4;
      return KeyFileValue{};
    }
    return Fail(c < 0 ? "the end of the file where a value belongs"
                      : "an unexpected character where a value belongs");
  }

  Result<KeyFileValue> Object(std::size_t depth) {
    ++at_;  // '{'
    KeyFileValue object;
    object.type = KeyFileValue::Type::kObject;
    SkipWhitespace();
    if (Peek() == '}') {
      ++at_;
      return object;
    }
    while (true) {
      SkipWhitespace();
      std::size_t name_at = at_;
      if (Peek() != '"') return Fail("a member name expected");
      ATTEST_ASSIGN_OR_RETURN(ByteView raw_name, String());
      if (raw_name.empty() || raw_name.size() > kMaxNameBytes ||
          !std::all_of(raw_name.begin(), raw_name.end(), IsNameByte)) {
        at_ = name_at;
        return Fail("a member name this format does not have");
      }
      std::string name(AsText(raw_name));
      for (const KeyFileMember& member : object.members) {
        if (member.name == name) {
          at_ = name_at;
          return Fail("member \"" + name + "\" repeated");
        }
      }
      ATTEST_RETURN_IF_ERROR(Expect(':', "':' expected after a member name"));
      ATTEST_ASSIGN_OR_RETURN(KeyFileValue value, Value(depth));
      object.members.push_back({std::move(name), std::move(value)});
      SkipWhitespace();
      if (Peek() == '}') {
        ++at_;
        return object;
      }
      ATTEST_RETURN_IF_ERROR(Expect(',', "',' or '}' expected after a member"));
    }
  }

  // The bytes between the quotes: printable ASCII, no escapes (no value in a
  // key file needs one).
  Result<ByteView> String() {
    std::size_t start = ++at_;
    while (at_ < text_.size() && text_[at_] != '"') {
      std::uint8_t c = text_[at_];
      if (c == '\\') return Fail("an escape sequence (key files use none)");
      if (c < 0x20 || c > 0x7e) return Fail("a byte that is not printable ASCII in a string");
      ++at_;
    }
    if (at_ == text_.size()) return Fail("an unterminated string");
    ByteView contents = text_.subspan(start, at_ - start);
    ++at_;  // '"'
    return contents;
  }

  Result<KeyFileValue> Integer() {
    KeyFileValue value;
    value.type = KeyFileValue::Type::kInteger;
    std::size_t start = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
      auto digit = static_cast<std::uint64_t>(text_[at_] - '0');
      if (value.integer > (kMaxInteger - digit) / 10) return Fail("a number larger than 2^53");
      value.integer = value.integer * 10 + digit;
      ++at_;
    }
    if (at_ - start > 1 && text_[start] == '0') {
      at_ = start;
      return Fail("a number with a leading zero");
    }
    int next = Peek();
    if (next == '.' || next == 'e' || next == 'E') return Fail("a number that is not an integer");
    return value;
  }

  ByteView text_;
  std::string_view name_;
  std::size_t at_ = 0;
};

}  // namespace

Result<KeyFileValue> ParseKeyFileJson(ByteView text, std::string_view name) {
  return Reader(text, name).Document();
}

}  // namespace attest::signer::internal
