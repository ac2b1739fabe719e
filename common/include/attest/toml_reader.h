// Strict reading of a TOML configuration file (tomlplusplus): every value
// checked for its type and range, every error "FILE: key.path: what is
// wrong" so an operator finds the line. The verifier's and attestd's
// configurations read their files through it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "attest/error.h"

namespace attest::toml_reader {

// The file being read: its name starts every message, and relative paths
// in it are resolved against its directory.
struct Source {
  std::string_view name;
  std::string base_dir;
};

// Parses `text`; a syntax error is kInvalidArgument "NAME:LINE:COLUMN:
// what", `name` being the file the text came from.
Result<toml::table> ParseText(std::string_view text, std::string_view name);

// A configuration file read whole: its absolute name (what every message
// starts with, and whose directory relative paths resolve against) and
// its text, at most 1 MiB.
struct ConfigFile {
  std::string name;
  std::string text;
};
Result<ConfigFile> ReadConfigFile(const std::string& path);

Error KeyError(const Source& source, std::string_view key, std::string_view what);
Error WrongType(const Source& source, std::string_view key, std::string_view expected,
                const toml::node& node);

Result<std::string> GetString(const toml::node& node, std::string_view key, const Source& source);
// A non-empty path, resolved against the file's directory.
Result<std::string> GetPath(const toml::node& node, std::string_view key, const Source& source);
Result<std::vector<std::string>> GetPaths(const toml::node& node, std::string_view key,
                                          const Source& source);
Result<std::vector<std::string>> GetStrings(const toml::node& node, std::string_view key,
                                            const Source& source);
Result<bool> GetBool(const toml::node& node, std::string_view key, const Source& source);
Result<std::int64_t> GetInteger(const toml::node& node, std::string_view key, const Source& source,
                                std::int64_t min, std::int64_t max);
// An integer or a float within [min, max].
Result<double> GetNumber(const toml::node& node, std::string_view key, const Source& source,
                         double min, double max);

// `path` as given when absolute, else joined to `base_dir` (the directory
// of the config file, "" for the working directory).
std::string ResolvePath(std::string_view base_dir, std::string_view path);

}  // namespace attest::toml_reader
