// Command-line flags for the project's CLIs: `--name value`, `--name=value`,
// boolean `--name`, positional arguments, and `--` to end flags. Unknown,
// repeated or incomplete flags are errors that name the flag.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attest/error.h"

namespace attest {

struct FlagSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // empty for a boolean flag
  std::string help;
};

class ParsedFlags {
 public:
  bool Has(const std::string& name) const { return values_.contains(name); }
  std::optional<std::string> Value(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }

 private:
  friend Result<ParsedFlags> ParseFlags(std::span<const std::string> args,
                                        std::span<const FlagSpec> specs);
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// `--help` and `-h` are always accepted and set help().
Result<ParsedFlags> ParseFlags(std::span<const std::string> args, std::span<const FlagSpec> specs);

// The "Options:" block of a usage text.
std::string FormatFlagHelp(std::span<const FlagSpec> specs);

// Parses a non-negative decimal integer flag or argument; `what` names it in
// the error ("--limit", "SEQ").
Result<std::uint64_t> ParseUnsigned(const std::string& text, const std::string& what);

}  // namespace attest
