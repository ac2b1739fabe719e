// The fast path of ParseJsonStrict: simdjson parses and validates (UTF-8,
// syntax) several times faster than nlohmann's lexer, which matters for
// documents carrying tens of KiB of base64 (evidence with a boot log). The
// result is converted to the same nlohmann value. Anything the strict rules
// might judge differently (a float, an integer beyond 2^53, a repeated key,
// deep nesting, any error) is left to the strict parser, which then
// accepts or explains: the two paths never disagree (json_fuzzer checks).
#include <cstdint>
#include <optional>
#include <string>

#include <simdjson.h>

#include "attest/json.h"

namespace attest::internal {
namespace {

constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;
// Documents up to this size reuse one parser per thread; bigger ones get
// their own, so a rare huge document does not pin its buffers forever.
constexpr std::size_t kReusedParserLimit = std::size_t{1} << 20;

std::optional<Json> Convert(simdjson::dom::element element, std::size_t depth,
                            std::size_t max_depth) {
  using simdjson::dom::element_type;
  switch (element.type()) {
    case element_type::NULL_VALUE:
      return Json(nullptr);
    case element_type::BOOL:
      return Json(element.get_bool().value_unsafe());
    case element_type::INT64: {
      std::int64_t value = element.get_int64().value_unsafe();
      if (value < -kMaxExactInteger || value > kMaxExactInteger) return std::nullopt;
      if (value >= 0) return Json(static_cast<std::uint64_t>(value));
      return Json(value);
    }
    case element_type::UINT64: {
      std::uint64_t value = element.get_uint64().value_unsafe();
      if (value > static_cast<std::uint64_t>(kMaxExactInteger)) return std::nullopt;
      return Json(value);
    }
    case element_type::DOUBLE:
      return std::nullopt;
    case element_type::STRING:
      return Json(std::string(element.get_string().value_unsafe()));
    case element_type::ARRAY: {
      if (depth + 1 >= max_depth) return std::nullopt;
      Json array = Json::array();
      simdjson::dom::array items = element.get_array().value_unsafe();
      for (simdjson::dom::element item : items) {
        std::optional<Json> value = Convert(item, depth + 1, max_depth);
        if (!value) return std::nullopt;
        array.push_back(std::move(*value));
      }
      return array;
    }
    case element_type::OBJECT: {
      if (depth + 1 >= max_depth) return std::nullopt;
      Json object = Json::object();
      simdjson::dom::object members = element.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair member : members) {
        std::optional<Json> value = Convert(member.value, depth + 1, max_depth);
        if (!value) return std::nullopt;
        if (!object.emplace(std::string(member.key), std::move(*value)).second) {
          return std::nullopt;  // a repeated key: the strict parser names it
        }
      }
      return object;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Json> ParseJsonFastPath(std::string_view text, const JsonLimits& limits) {
  thread_local simdjson::dom::parser reused;
  simdjson::dom::parser fresh;
  simdjson::dom::parser& parser = text.size() <= kReusedParserLimit ? reused : fresh;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  return Convert(root, 0, limits.max_depth);
}

}  // namespace attest::internal
