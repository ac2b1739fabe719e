// Strict JSON parsing: nlohmann's SAX parser drives a DOM builder that adds
// the I-JSON rules nlohmann's own DOM parser does not enforce (duplicate keys,
// depth, exactly representable numbers).
#include <cstdint>
#include <string>
#include <vector>

#include "attest/json.h"

namespace attest {
namespace {

class StrictDomBuilder : public nlohmann::json_sax<Json> {
 public:
  explicit StrictDomBuilder(const JsonLimits& limits) : limits_(limits) {}

  bool null() override { return Add(Json(nullptr)); }
  bool boolean(bool value) override { return Add(Json(value)); }

  // The same rules CanonicalJson applies, so whatever parses also hashes.
  bool number_integer(number_integer_t value) override {
    return CheckNumber(AppendCanonicalInteger(value, scratch_), Json(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return CheckNumber(AppendCanonicalUnsigned(value, scratch_), Json(value));
  }
  bool number_float(number_float_t value, const string_t& text) override {
    return CheckNumber(AppendCanonicalFloat(value, text, scratch_), Json(value));
  }

  bool string(string_t& value) override { return Add(Json(std::move(value))); }

  bool binary(binary_t& /*value*/) override { return Fail("binary values are not JSON"); }

  bool start_object(std::size_t /*elements*/) override { return Open(Json::object()); }
  bool start_array(std::size_t /*elements*/) override { return Open(Json::array()); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  bool key(string_t& key) override {
    Json& object = *stack_.back();
    if (object.contains(key)) return Fail("duplicate object key \"" + key + "\"");
    pending_key_ = std::move(key);
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) override {
    if (error_.empty()) {
      error_ = Describe(error.what());
      error_position_ = position;
    }
    return false;
  }

  Json TakeRoot() { return std::move(root_); }
  const std::string& error() const { return error_; }
  std::size_t error_position() const { return error_position_; }

 private:
  // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1,
  // column 5: "; the byte offset we report replaces it.
  static std::string Describe(std::string_view what) {
    auto colon = what.find(": ");
    if (what.starts_with("[json.exception") && colon != std::string_view::npos) {
      what.remove_prefix(colon + 2);
    }
    return std::string(what);
  }

  bool CheckNumber(const Status& status, Json value) {
    scratch_.clear();
    if (!status.ok()) return Fail(status.error().message);
    return Add(std::move(value));
  }

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  Json* Insert(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    Json& slot = parent[pending_key_];
    slot = std::move(value);
    return &slot;
  }

  bool Add(Json value) {
    Insert(std::move(value));
    return true;
  }

  bool Open(Json container) {
    if (stack_.size() >= limits_.max_depth) {
      return Fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    stack_.push_back(Insert(std::move(container)));
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  const JsonLimits& limits_;
  Json root_;
  std::vector<Json*> stack_;
  std::string pending_key_;
  std::string scratch_;
  std::string error_;
  std::size_t error_position_ = 0;
};

}  // namespace

Result<Json> ParseJsonStrict(std::string_view text, const JsonLimits& limits) {
  if (std::optional<Json> fast = internal::ParseJsonFastPath(text, limits)) return *std::move(fast);
  return internal::ParseJsonStrictSlowPath(text, limits);
}

Result<Json> internal::ParseJsonStrictSlowPath(std::string_view text, const JsonLimits& limits) {
  StrictDomBuilder builder(limits);
  bool parsed = false;
  try {
    parsed = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                             /*strict=*/true, /*ignore_comments=*/false);
  } catch (const std::exception& error) {  // nlohmann throws for a few input errors
    return MakeError(ErrorCode::kInvalidArgument, std::string("invalid JSON: ") + error.what());
  }
  if (!parsed) {
    std::string message = "invalid JSON";
    if (builder.error_position() > 0) {
      message += " at byte " + std::to_string(builder.error_position());
    }
    message += ": " + (builder.error().empty() ? std::string("syntax error") : builder.error());
    return MakeError(ErrorCode::kInvalidArgument, std::move(message));
  }
  return builder.TakeRoot();
}

const Json* FindMember(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

std::string PrettyJson(const Json& value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace attest
