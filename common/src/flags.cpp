#include "attest/flags.h"

#include <algorithm>
#include <charconv>

namespace attest {

std::optional<std::string> ParsedFlags::Value(const std::string& name) const {
  auto found = values_.find(name);
  if (found == values_.end()) return std::nullopt;
  return found->second;
}

Result<ParsedFlags> ParseFlags(std::span<const std::string> args, std::span<const FlagSpec> specs) {
  ParsedFlags parsed;
  bool flags_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_ended || arg == "-" || !arg.starts_with("-")) {
      parsed.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      parsed.help_ = true;
      continue;
    }
    std::string name = arg.starts_with("--") ? arg.substr(2) : arg.substr(1);
    std::optional<std::string> inline_value;
    if (auto equals = name.find('='); equals != std::string::npos) {
      inline_value = name.substr(equals + 1);
      name.resize(equals);
    }
    auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      return MakeError(ErrorCode::kInvalidArgument, "unknown option " + arg);
    }
    if (parsed.values_.contains(name)) {
      return MakeError(ErrorCode::kInvalidArgument, "option --" + name + " given twice");
    }
    if (spec->value_name.empty()) {
      if (inline_value) {
        return MakeError(ErrorCode::kInvalidArgument, "option --" + name + " takes no value");
      }
      parsed.values_[name] = "";
    } else if (inline_value) {
      parsed.values_[name] = *inline_value;
    } else if (i + 1 < args.size()) {
      parsed.values_[name] = args[++i];
    } else {
      return MakeError(ErrorCode::kInvalidArgument,
                       "option --" + name + " needs a value (" + spec->value_name + ")");
    }
  }
  return parsed;
}

std::string FormatFlagHelp(std::span<const FlagSpec> specs) {
  std::string text = "Options:\n";
  for (const FlagSpec& spec : specs) {
    std::string left = "  --" + spec.name;
    if (!spec.value_name.empty()) left += " " + spec.value_name;
    if (left.size() < 26)
      left.resize(26, ' ');
    else
      left += "\n" + std::string(26, ' ');
    text += left + spec.help + "\n";
  }
  text += "  --help                  show this help\n";
  return text;
}

Result<std::uint64_t> ParseUnsigned(const std::string& text, const std::string& what) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + " must be a non-negative integer, got \"" + text + "\"");
  }
  return value;
}

}  // namespace attest
