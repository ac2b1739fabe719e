#include "openapi_validator.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <regex>
#include <set>
#include <sstream>

namespace attest::test {
namespace {

// YAML scalars carry no type; the contract's plain scalars are read as
// YAML 1.2 core-schema values (true/false, integers, floats, null), and
// quoted ones as strings.
Json ScalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted
  if (text == "true") return true;
  if (text == "false") return false;
  if (text == "null" || text == "~") return nullptr;
  static const std::regex integer(R"(^-?[0-9]+$)");
  static const std::regex real(R"(^-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(text, integer)) return std::stoll(text);
  if (std::regex_match(text, real)) return std::stod(text);
  return text;
}

Json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& item : node) object[item.first.Scalar()] = YamlToJson(item.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const auto& item : node) array.push_back(YamlToJson(item));
      return array;
    }
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    default:
      return nullptr;
  }
}

bool HasType(const Json& value, std::string_view type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer") {
    return value.is_number_integer() ||
           (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
  }
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  return false;
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool PathMatches(std::string_view path_template, std::string_view path) {
  const auto want = SplitPath(path_template);
  const auto have = SplitPath(path);
  if (want.size() != have.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const bool parameter = want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}';
    if (parameter ? have[i].empty() : want[i] != have[i]) return false;
  }
  return true;
}

const std::set<std::string, std::less<>> kKnownKeywords = {
    "$ref",      "type",      "properties", "required", "additionalProperties",
    "items",     "enum",      "const",      "pattern",  "minimum",
    "maximum",   "minLength", "maxLength",  "minItems", "maxItems",
    "oneOf",     "anyOf",     "allOf",      "description", "format",
    "example",   "title"};

Error Mismatch(const std::string& where, const std::string& what) {
  return MakeError(ErrorCode::kVerificationFailed, where + ": " + what);
}

Status CheckSchemaKeywords(const Json& schema, const std::string& where) {
  if (!schema.is_object()) return {};
  for (const auto& item : schema.items()) {
    if (!kKnownKeywords.contains(item.key())) {
      return MakeError(ErrorCode::kUnsupported, where + ": keyword '" + item.key() +
                                                    "' is not checked by this checker");
    }
  }
  if (schema.contains("properties")) {
    for (const auto& property : schema["properties"].items()) {
      ATTEST_RETURN_IF_ERROR(CheckSchemaKeywords(property.value(), where + "." + property.key()));
    }
  }
  for (const char* child : {"items", "additionalProperties"}) {
    if (schema.contains(child)) ATTEST_RETURN_IF_ERROR(CheckSchemaKeywords(schema[child], where));
  }
  for (const char* list : {"allOf", "anyOf", "oneOf"}) {
    if (!schema.contains(list)) continue;
    for (const auto& part : schema[list]) ATTEST_RETURN_IF_ERROR(CheckSchemaKeywords(part, where));
  }
  return {};
}

}  // namespace

Status OpenApiContract::CheckKeywords() const {
  for (const auto& item : document_["components"]["schemas"].items()) {
    ATTEST_RETURN_IF_ERROR(CheckSchemaKeywords(item.value(), item.key()));
  }
  for (const auto& path : document_["paths"].items()) {
    for (const auto& operation : path.value().items()) {
      for (const auto& response : operation.value()["responses"].items()) {
        if (!response.value().contains("content")) continue;
        for (const auto& media : response.value()["content"].items()) {
          if (!media.value().contains("schema")) continue;
          ATTEST_RETURN_IF_ERROR(CheckSchemaKeywords(
              media.value()["schema"], path.key() + " " + operation.key() + " " + response.key()));
        }
      }
    }
  }
  return {};
}

Result<OpenApiContract> OpenApiContract::Load(const std::string& yaml_path) {
  try {
    YAML::Node root = YAML::LoadFile(yaml_path);
    Json document = YamlToJson(root);
    if (!document.is_object() || !document.contains("openapi") || !document.contains("paths")) {
      return MakeError(ErrorCode::kCorrupt, yaml_path + ": not an OpenAPI document");
    }
    return OpenApiContract(std::move(document));
  } catch (const YAML::Exception& error) {
    return MakeError(ErrorCode::kCorrupt, yaml_path + ": " + error.what());
  }
}

Result<const Json*> OpenApiContract::Resolve(const Json& schema) const {
  const Json* current = &schema;
  for (int hops = 0; current->is_object() && current->contains("$ref"); ++hops) {
    if (hops > 16) return MakeError(ErrorCode::kCorrupt, "$ref chain too long");
    const std::string reference = (*current)["$ref"].get<std::string>();
    const std::string prefix = "#/components/schemas/";
    if (reference.rfind(prefix, 0) != 0) {
      return MakeError(ErrorCode::kCorrupt, "unsupported $ref " + reference);
    }
    const Json& schemas = document_["components"]["schemas"];
    const std::string name = reference.substr(prefix.size());
    if (!schemas.contains(name)) return MakeError(ErrorCode::kCorrupt, "no schema " + name);
    current = &schemas[name];
  }
  return current;
}

Status OpenApiContract::CheckAgainst(const Json& schema, const Json& value) const {
  return Check(schema, value, "$", 0);
}

Status OpenApiContract::Check(const Json& schema_in, const Json& value, const std::string& where,
                              int depth) const {
  if (depth > 64) return Mismatch(where, "schema nests too deep");
  auto resolved = Resolve(schema_in);
  if (!resolved.ok()) return resolved.error();
  const Json& schema = **resolved;
  if (schema.is_boolean()) {
    return schema.get<bool>() ? Status() : Status(Mismatch(where, "not allowed here"));
  }
  for (const auto& item : schema.items()) {
    if (!kKnownKeywords.contains(item.key())) {
      return MakeError(ErrorCode::kUnsupported,
                       where + ": the contract uses keyword '" + item.key() +
                           "', which this checker does not know");
    }
  }
  if (schema.contains("type")) {
    const Json& type = schema["type"];
    bool matched = false;
    if (type.is_string()) {
      matched = HasType(value, type.get<std::string>());
    } else {
      for (const auto& one : type) matched = matched || HasType(value, one.get<std::string>());
    }
    if (!matched) return Mismatch(where, "is " + std::string(value.type_name()) + ", want " + type.dump());
  }
  if (schema.contains("const") && value != schema["const"]) {
    return Mismatch(where, "is not " + schema["const"].dump());
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& allowed : schema["enum"]) found = found || allowed == value;
    if (!found) return Mismatch(where, value.dump() + " is not one of the enum values");
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (schema.contains("minLength") && text.size() < schema["minLength"].get<std::size_t>()) {
      return Mismatch(where, "shorter than minLength");
    }
    if (schema.contains("maxLength") && text.size() > schema["maxLength"].get<std::size_t>()) {
      return Mismatch(where, "longer than maxLength");
    }
    if (schema.contains("pattern") &&
        !std::regex_search(text, std::regex(schema["pattern"].get<std::string>()))) {
      return Mismatch(where, "'" + text.substr(0, 80) + "' does not match " + schema["pattern"].dump());
    }
  }
  if (value.is_number()) {
    if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) {
      return Mismatch(where, "below minimum");
    }
    if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) {
      return Mismatch(where, "above maximum");
    }
  }
  if (value.is_object()) {
    const Json empty = Json::object();
    const Json& properties = schema.contains("properties") ? schema["properties"] : empty;
    if (schema.contains("required")) {
      for (const auto& name : schema["required"]) {
        if (!value.contains(name.get<std::string>())) {
          return Mismatch(where, "missing required member '" + name.get<std::string>() + "'");
        }
      }
    }
    for (const auto& member : value.items()) {
      const std::string child = where + "." + member.key();
      if (properties.contains(member.key())) {
        if (auto status = Check(properties[member.key()], member.value(), child, depth + 1); !status.ok()) return status;
      } else if (schema.contains("additionalProperties")) {
        if (auto status = Check(schema["additionalProperties"], member.value(), child, depth + 1); !status.ok()) return status;
      }
    }
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<std::size_t>()) {
      return Mismatch(where, "fewer items than minItems");
    }
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<std::size_t>()) {
      return Mismatch(where, "more items than maxItems");
    }
    if (schema.contains("items")) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (auto status = Check(schema["items"], value[i], where + "[" + std::to_string(i) + "]", depth + 1); !status.ok()) return status;
      }
    }
  }
  if (schema.contains("allOf")) {
    for (const auto& part : schema["allOf"]) {
      if (auto status = Check(part, value, where, depth + 1); !status.ok()) return status;
    }
  }
  if (schema.contains("anyOf") || schema.contains("oneOf")) {
    const bool exactly_one = schema.contains("oneOf");
    const Json& options = exactly_one ? schema["oneOf"] : schema["anyOf"];
    int matches = 0;
    std::string last_failure;
    for (const auto& option : options) {
      auto status = Check(option, value, where, depth + 1);
      if (status.ok()) {
        ++matches;
      } else {
        last_failure = status.error().message;
      }
    }
    if (matches == 0) return Mismatch(where, "matches none of the alternatives (last: " + last_failure + ")");
    if (exactly_one && matches > 1) return Mismatch(where, "matches more than one oneOf alternative");
  }
  return {};
}

Status OpenApiContract::CheckResponse(std::string_view method, std::string_view path, int status,
                                      std::string_view content_type,
                                      std::string_view body) const {
  const std::string operation_name = [&] {
    std::string lower(method);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
  }();
  const std::string where = std::string(method) + " " + std::string(path) + " -> " + std::to_string(status);
  const Json* operation = nullptr;
  for (const auto& item : document_["paths"].items()) {
    if (PathMatches(item.key(), path) && item.value().contains(operation_name)) {
      operation = &item.value()[operation_name];
      break;
    }
  }
  if (operation == nullptr) return Mismatch(where, "the contract has no such operation");
  const Json& responses = (*operation)["responses"];
  const std::string code = std::to_string(status);
  const Json* response = responses.contains(code)        ? &responses[code]
                         : responses.contains("default") ? &responses["default"]
                                                         : nullptr;
  if (response == nullptr) return Mismatch(where, "the contract does not list this status");
  std::string media(content_type.substr(0, content_type.find(';')));
  if (!response->contains("content")) {
    return body.empty() ? Status() : Mismatch(where, "the contract says no body, got one");
  }
  const Json& content = (*response)["content"];
  if (!content.contains(media)) return Mismatch(where, "the contract has no content type " + media);
  const Json& media_type = content[media];
  if (media != "application/json") return {};  // PEM, text: the media type is the contract
  auto parsed = ParseJsonStrict(body);
  if (!parsed.ok()) return Mismatch(where, "body is not JSON: " + parsed.error().message);
  if (!media_type.contains("schema")) return {};
  if (auto checked = Check(media_type["schema"], *parsed, "$", 0); !checked.ok()) {
    return checked.error().WithContext(where);
  }
  return {};
}

}  // namespace attest::test
