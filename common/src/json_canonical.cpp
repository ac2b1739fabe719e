// RFC 8785 (JCS) serialization.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "attest/json.h"
#include "attest/utf8.h"

namespace attest {
namespace {

constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;

std::u16string ToUtf16(std::string_view text) {
  std::u16string units;
  units.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    char32_t code_point = 0;
    std::size_t length = 1;
    if (lead < 0x80) {
      code_point = lead;
    } else if (lead < 0xe0) {
      code_point = lead & 0x1fU;
      length = 2;
    } else if (lead < 0xf0) {
      code_point = lead & 0x0fU;
      length = 3;
    } else {
      code_point = lead & 0x07U;
      length = 4;
    }
    for (std::size_t k = 1; k < length && i + k < text.size(); ++k) {
      code_point = (code_point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3fU);
    }
    if (code_point >= 0x10000) {
      code_point -= 0x10000;
      units.push_back(static_cast<char16_t>(0xd800 + (code_point >> 10)));
      units.push_back(static_cast<char16_t>(0xdc00 + (code_point & 0x3ff)));
    } else {
      units.push_back(static_cast<char16_t>(code_point));
    }
    i += length;
  }
  return units;
}

bool HasSupplementaryCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0xf0; });
}

Status AppendValue(const Json& value, std::string& out);

// RFC 8785 prints every number as the double it denotes; an integer that the
// double would round is refused rather than silently changed.
Status AppendInteger(const std::string& decimal, double as_double, std::string& out) {
  std::size_t mark = out.size();
  AppendEcmaScriptNumber(as_double, out);
  if (std::string_view(out).substr(mark) != decimal) {
    out.resize(mark);
    return MakeError(ErrorCode::kInvalidArgument,
                     "integer " + decimal +
                         " cannot be held exactly by a JSON number (I-JSON); send it as a string");
  }
  return OkStatus();
}

Status AppendObject(const Json& object, std::string& out) {
  // nlohmann keeps members in UTF-8 byte order, which equals UTF-16 order
  // unless a key holds a character outside the Basic Multilingual Plane.
  std::vector<const std::string*> keys;
  keys.reserve(object.size());
  bool needs_resort = false;
  for (const auto& [key, member] : object.items()) {
    keys.push_back(&key);
    needs_resort = needs_resort || HasSupplementaryCharacter(key);
  }
  if (needs_resort) {
    std::sort(keys.begin(), keys.end(),
              [](const std::string* a, const std::string* b) { return JsonKeyLess(*a, *b); });
  }
  out.push_back('{');
  bool first = true;
  for (const std::string* key : keys) {
    if (!first) out.push_back(',');
    first = false;
    if (!IsValidUtf8(*key)) return MakeError(ErrorCode::kInvalidArgument, "key is not UTF-8");
    AppendJsonString(*key, out);
    out.push_back(':');
    ATTEST_RETURN_IF_ERROR(AppendValue(object.at(*key), out));
  }
  out.push_back('}');
  return OkStatus();
}

Status AppendValue(const Json& value, std::string& out) {
  switch (value.type()) {
    case Json::value_t::null:
      out += "null";
      return OkStatus();
    case Json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return OkStatus();
    case Json::value_t::number_integer:
      return AppendCanonicalInteger(value.get<std::int64_t>(), out);
    case Json::value_t::number_unsigned:
      return AppendCanonicalUnsigned(value.get<std::uint64_t>(), out);
    case Json::value_t::number_float: {
      auto number = value.get<double>();
      if (!std::isfinite(number)) {
        return MakeError(ErrorCode::kInvalidArgument, "NaN and infinities are not JSON numbers");
      }
      AppendEcmaScriptNumber(number, out);
      return OkStatus();
    }
    case Json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      if (!IsValidUtf8(text)) return MakeError(ErrorCode::kInvalidArgument, "string is not UTF-8");
      AppendJsonString(text, out);
      return OkStatus();
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const Json& element : value) {
        if (!first) out.push_back(',');
        first = false;
        ATTEST_RETURN_IF_ERROR(AppendValue(element, out));
      }
      out.push_back(']');
      return OkStatus();
    }
    case Json::value_t::object:
      return AppendObject(value, out);
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return MakeError(ErrorCode::kInvalidArgument, "value has no JSON form");
}

}  // namespace

Status AppendCanonicalInteger(std::int64_t value, std::string& out) {
  if (value >= -kMaxExactInteger && value <= kMaxExactInteger) {
    out += std::to_string(value);
    return OkStatus();
  }
  return AppendInteger(std::to_string(value), static_cast<double>(value), out);
}

Status AppendCanonicalUnsigned(std::uint64_t value, std::string& out) {
  if (value <= static_cast<std::uint64_t>(kMaxExactInteger)) {
    out += std::to_string(value);
    return OkStatus();
  }
  return AppendInteger(std::to_string(value), static_cast<double>(value), out);
}

Status AppendCanonicalFloat(double value, std::string_view text, std::string& out) {
  if (!std::isfinite(value)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "number " + std::string(text) + " is out of range");
  }
  if (text.find_first_of(".eE") == std::string_view::npos) {
    return AppendInteger(std::string(text), value, out);  // an integer too large for 64 bits
  }
  AppendEcmaScriptNumber(value, out);
  return OkStatus();
}

bool JsonKeyLess(std::string_view a, std::string_view b) {
  if (!HasSupplementaryCharacter(a) && !HasSupplementaryCharacter(b)) return a < b;
  return ToUtf16(a) < ToUtf16(b);
}

void AppendJsonString(std::string_view text, std::string& out) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out.push_back(kHex[byte >> 4]);
          out.push_back(kHex[byte & 0x0f]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

// ECMA-262 §7.1.12.1 Number::toString, from the shortest round-trip digits
// that std::to_chars produces (the same digits ECMAScript requires).
void AppendEcmaScriptNumber(double value, std::string& out) {
  if (value == 0) {  // both zeros print as "0"
    out.push_back('0');
    return;
  }
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  std::array<char, 64> buffer{};
  auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                    std::chars_format::scientific);
  std::string_view scientific(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
  auto e = scientific.find('e');
  std::string digits;
  for (char c : scientific.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::string_view exponent_text = scientific.substr(e + 1);
  if (!exponent_text.empty() && exponent_text.front() == '+') exponent_text.remove_prefix(1);
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // value = 0.d1d2...dk x 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(n - 1));
  }
}

Status AppendCanonicalJson(const Json& value, std::string& out) { return AppendValue(value, out); }

Result<std::string> CanonicalJson(const Json& value) {
  std::string out;
  ATTEST_RETURN_IF_ERROR(AppendValue(value, out));
  return out;
}

}  // namespace attest
