#include "attest/toml_reader.h"

#include <cmath>
#include <filesystem>

#include "attest/file.h"

namespace attest::toml_reader {
namespace {

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

std::string FormatNumber(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

Result<toml::table> ParseText(std::string_view text, std::string_view name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& error) {
    // toml++ reports syntax errors by throwing; they stop here.
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(name) + ":" + std::to_string(error.source().begin.line) + ":" +
                         std::to_string(error.source().begin.column) + ": " +
                         std::string(error.description()));
  }
}

Result<ConfigFile> ReadConfigFile(const std::string& path) {
  constexpr std::size_t kMaxConfigBytes = 1 << 20;
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (error) return MakeError(ErrorCode::kInvalidArgument, path + ": " + error.message());
  ConfigFile file;
  file.name = absolute.string();
  ATTEST_ASSIGN_OR_RETURN(file.text, ReadFile(file.name, kMaxConfigBytes));
  return file;
}

Error KeyError(const Source& source, std::string_view key, std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(source.name) + ": " + std::string(key) + ": " + std::string(what));
}

Error WrongType(const Source& source, std::string_view key, std::string_view expected,
                const toml::node& node) {
  return KeyError(source, key,
                  "must be " + std::string(expected) + ", not " + std::string(TypeName(node)));
}

Result<std::string> GetString(const toml::node& node, std::string_view key, const Source& source) {
  const auto* value = node.as_string();
  if (value == nullptr) return WrongType(source, key, "a string", node);
  return value->get();
}

Result<std::string> GetPath(const toml::node& node, std::string_view key, const Source& source) {
  ATTEST_ASSIGN_OR_RETURN(std::string path, GetString(node, key, source));
  if (path.empty()) return KeyError(source, key, "is an empty path");
  return ResolvePath(source.base_dir, path);
}

Result<std::vector<std::string>> GetPaths(const toml::node& node, std::string_view key,
                                          const Source& source) {
  const auto* array = node.as_array();
  if (array == nullptr) return WrongType(source, key, "an array of paths", node);
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < array->size(); ++i) {
    ATTEST_ASSIGN_OR_RETURN(
        std::string path,
        GetPath((*array)[i], std::string(key) + "[" + std::to_string(i) + "]", source));
    paths.push_back(std::move(path));
  }
  return paths;
}

Result<std::vector<std::string>> GetStrings(const toml::node& node, std::string_view key,
                                            const Source& source) {
  const auto* array = node.as_array();
  if (array == nullptr) return WrongType(source, key, "an array of strings", node);
  std::vector<std::string> strings;
  for (std::size_t i = 0; i < array->size(); ++i) {
    ATTEST_ASSIGN_OR_RETURN(
        std::string text,
        GetString((*array)[i], std::string(key) + "[" + std::to_string(i) + "]", source));
    strings.push_back(std::move(text));
  }
  return strings;
}

Result<bool> GetBool(const toml::node& node, std::string_view key, const Source& source) {
  const auto* value = node.as_boolean();
  if (value == nullptr) return WrongType(source, key, "true or false", node);
  return value->get();
}

Result<std::int64_t> GetInteger(const toml::node& node, std::string_view key, const Source& source,
                                std::int64_t min, std::int64_t max) {
  const auto* value = node.as_integer();
  if (value == nullptr) return WrongType(source, key, "an integer", node);
  if (value->get() < min || value->get() > max) {
    return KeyError(source, key,
                    "must be " + std::to_string(min) + ".." + std::to_string(max) + ", not " +
                        std::to_string(value->get()));
  }
  return value->get();
}

Result<double> GetNumber(const toml::node& node, std::string_view key, const Source& source,
                         double min, double max) {
  double number = 0;
  if (const auto* integer = node.as_integer()) {
    number = static_cast<double>(integer->get());
  } else if (const auto* floating = node.as_floating_point()) {
    number = floating->get();
  } else {
    return WrongType(source, key, "a number", node);
  }
  if (!std::isfinite(number) || number < min || number > max) {
    return KeyError(source, key,
                    "must be a number from " + FormatNumber(min) + " to " + FormatNumber(max));
  }
  return number;
}

std::string ResolvePath(std::string_view base_dir, std::string_view path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return std::string(path);
  std::string resolved(base_dir);
  if (resolved.back() != '/') resolved += '/';
  resolved += path;
  return resolved;
}

}  // namespace attest::toml_reader
