#include "target.h"

#include <optional>

namespace attest::http {
namespace {

std::optional<int> HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// Where a decoded character may appear: in a path an escaped '/' would
// become a separator the client did not send (/v1%2Ftokens routing as
// /v1/tokens), so it is refused there.
enum class Part { kPath, kQuery };

// `offset` is where `text` starts in the whole target, for the message.
Result<std::string> PercentDecode(std::string_view text, std::size_t offset, Part part) {
  const bool plus_is_space = part == Part::kQuery;
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\0') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "request target has a NUL byte at offset " + std::to_string(offset + i));
    }
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
      continue;
    }
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    std::optional<int> high = i + 1 < text.size() ? HexValue(text[i + 1]) : std::nullopt;
    std::optional<int> low = i + 2 < text.size() ? HexValue(text[i + 2]) : std::nullopt;
    if (!high || !low) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "request target has a malformed percent-escape at offset " + std::to_string(offset + i));
    }
    char decoded = static_cast<char>(*high * 16 + *low);
    if (decoded == '\0') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "request target escapes a NUL byte at offset " + std::to_string(offset + i));
    }
    if (decoded == '/' && part == Part::kPath) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "request path escapes a '/' at offset " + std::to_string(offset + i));
    }
    out.push_back(decoded);
    i += 2;
  }
  return out;
}

}  // namespace

Result<DecodedTarget> DecodeTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return MakeError(ErrorCode::kInvalidArgument,
                     "request target is not origin-form (must start with '/')");
  }
  std::size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  DecodedTarget decoded;
  ATTEST_ASSIGN_OR_RETURN(decoded.path, PercentDecode(raw_path, 0, Part::kPath));
  if (question == std::string_view::npos) return decoded;

  std::size_t start = question + 1;
  while (start <= target.size()) {
    std::size_t end = target.find('&', start);
    if (end == std::string_view::npos) end = target.size();
    std::string_view pair = target.substr(start, end - start);
    if (!pair.empty()) {
      std::size_t equals = pair.find('=');
      std::string_view raw_name = pair.substr(0, equals);
      std::string_view raw_value =
          equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
      std::size_t value_offset =
          start + (equals == std::string_view::npos ? pair.size() : equals + 1);
      ATTEST_ASSIGN_OR_RETURN(std::string name, PercentDecode(raw_name, start, Part::kQuery));
      ATTEST_ASSIGN_OR_RETURN(std::string value,
                              PercentDecode(raw_value, value_offset, Part::kQuery));
      decoded.query.emplace_back(std::move(name), std::move(value));
    }
    start = end + 1;
  }
  return decoded;
}

}  // namespace attest::http
