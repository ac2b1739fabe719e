// Text and JSON views of a parsed list and its replay, for the CLI and the
// API. Paths come from the measured system, so they are escaped, never
// trusted to be printable or UTF-8.
#include <optional>
#include <string>
#include <string_view>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"
#include "attest/utf8.h"
#include "attest/verifier/ima_log.h"

namespace attest::verifier {
namespace {

// Valid UTF-8 with each ill-formed byte replaced by U+FFFD.
std::string ToValidUtf8(std::string_view text) {
  std::string out;
  while (true) {
    std::optional<std::size_t> bad = FindInvalidUtf8(text);
    if (!bad) break;
    out.append(text.substr(0, *bad));
    out.append("\xEF\xBF\xBD");
    text.remove_prefix(*bad + 1);
  }
  out.append(text);
  return out;
}

// For one line of text: control characters, '\\' and bytes >= 0x7f as \xNN.
std::string EscapeForText(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '\\') {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

const char* FormatName(ImaLogFormat format) {
  switch (format) {
    case ImaLogFormat::kBinary:
      return "binary";
    case ImaLogFormat::kAscii:
      return "ascii";
    case ImaLogFormat::kAuto:
      break;
  }
  return "auto";
}

}  // namespace

std::string RenderImaLogText(const ImaLog& log, const tpm::PcrValues& replayed) {
  std::string out = "IMA measurement list (" + std::string(FormatName(log.format)) + ", " +
                    std::to_string(log.template_digest_size) +
                    "-byte template digests): " + std::to_string(log.entries.size()) + " records\n";
  if (log.trailing_bytes != 0) {
    out += "  ignored " + std::to_string(log.trailing_bytes) + " trailing bytes\n";
  }
  const char* unit = log.format == ImaLogFormat::kAscii ? "line " : "offset ";
  for (const ImaEntry& entry : log.entries) {
    out += "  " + std::string(unit) + std::to_string(entry.position) + " pcr " +
           std::to_string(entry.pcr) + " " + EscapeForText(entry.template_name) + " " +
           HexEncode(entry.template_digest);
    if (!entry.file_hash_algorithm.empty()) {
      out += " " + entry.file_hash_algorithm + ":" + HexEncode(entry.file_digest) + " " +
             EscapeForText(entry.path);
    }
    if (!entry.signature.empty()) out += " sig:" + HexEncode(entry.signature);
    if (entry.violation()) out += " VIOLATION";
    out += "\n";
  }
  for (const auto& [bank, pcrs] : replayed) {
    for (const auto& [index, value] : pcrs) {
      out += "PCR " + std::to_string(index) + " " + tpm::AlgorithmName(bank) + ": " +
             HexEncode(value) + "\n";
    }
  }
  return out;
}

nlohmann::json ImaLogToJson(const ImaLog& log, const tpm::PcrValues& replayed) {
  nlohmann::json entries = nlohmann::json::array();
  for (const ImaEntry& entry : log.entries) {
    nlohmann::json item = {
        {"position", entry.position},
        {"pcr", entry.pcr},
        {"template_digest", HexEncode(entry.template_digest)},
        {"template", ToValidUtf8(entry.template_name)},
        {"file_hash_algorithm", entry.file_hash_algorithm},
        {"file_digest", HexEncode(entry.file_digest)},
        {"path", ToValidUtf8(entry.path)},
        {"violation", entry.violation()},
    };
    if (!IsValidUtf8(entry.path)) item["path_hex"] = HexEncode(AsBytes(entry.path));
    if (entry.template_name == "ima-sig") item["signature"] = HexEncode(entry.signature);
    entries.push_back(std::move(item));
  }
  nlohmann::json pcrs = nlohmann::json::object();
  for (const auto& [bank, values] : replayed) {
    nlohmann::json bank_values = nlohmann::json::object();
    for (const auto& [index, value] : values) bank_values[std::to_string(index)] = HexEncode(value);
    pcrs[tpm::AlgorithmName(bank)] = std::move(bank_values);
  }
  return {{"entries", std::move(entries)}, {"pcrs", std::move(pcrs)}};
}

}  // namespace attest::verifier
