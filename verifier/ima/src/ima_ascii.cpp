// ascii_runtime_measurements, as security/integrity/ima/ima_fs.c
// (ima_ascii_measurements_show) prints it: "%2d " PCR, template digest in
// hex, template name, then " " and each field (nothing for an empty field, so
// an ima-sig line without a signature ends in a space), then "\n".
// The kernel writes paths with spaces turned into '_', so fields are split on
// single spaces and nothing else. Each line is re-encoded into the binary
// template data, which is what the template digest and the PCR cover.
#include <string>
#include <vector>

#include "attest/encoding.h"

#include "ima_template.h"

namespace attest::verifier::ima_internal {
namespace {

std::vector<std::string_view> SplitOnSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t space = line.find(' ', start);
    fields.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return fields;
}

bool IsLowercaseHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return text.size() % 2 == 0;
}

Result<Bytes> DecodeHexField(std::string_view text, std::size_t line, std::string_view what) {
  if (!IsLowercaseHex(text)) {
    return CorruptAtLine(line, std::string(what) + " is not lowercase hex of whole bytes");
  }
  return HexDecode(text);
}

// "%2d": one or two decimal digits, a single digit padded with a space.
Result<std::uint32_t> ParsePcr(std::string_view text, bool padded, std::size_t line) {
  bool digits = !text.empty() && text.size() <= 2 &&
                text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits || (padded != (text.size() == 1)) || (text.size() == 2 && text[0] == '0')) {
    return CorruptAtLine(line, "PCR index \"" + Printable(text) + "\" is not \"%2d\"");
  }
  std::uint32_t pcr = 0;
  for (char c : text) pcr = pcr * 10 + static_cast<std::uint32_t>(c - '0');
  if (pcr >= kPcrCount) {
    return CorruptAtLine(
        line, "PCR index " + std::to_string(pcr) + " is not below " + std::to_string(kPcrCount));
  }
  return pcr;
}

// "algo:hex" of the d-ng field.
Status ParseDigestNg(std::string_view text, std::size_t line, ImaEntry& entry) {
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return CorruptAtLine(line, "file digest \"" + Printable(text) + "\" lacks \"algorithm:\"");
  }
  std::string algorithm(text.substr(0, colon));
  std::optional<std::size_t> size = FileDigestSize(algorithm);
  if (!size) {
    return CorruptAtLine(line, "unknown file hash algorithm \"" + Printable(algorithm) + "\"");
  }
  std::string_view hex = text.substr(colon + 1);
  if (hex.size() != 2 * *size) {
    return CorruptAtLine(line, algorithm + " file digest has " + std::to_string(hex.size()) +
                                   " hex digits, expected " + std::to_string(2 * *size));
  }
  ATTEST_ASSIGN_OR_RETURN(entry.file_digest, DecodeHexField(hex, line, "file digest"));
  entry.file_hash_algorithm = std::move(algorithm);
  return OkStatus();
}

Status ParsePath(std::string_view text, std::size_t line, ImaEntry& entry) {
  if (text.empty()) return CorruptAtLine(line, "empty path");
  if (text.find('\0') != std::string_view::npos) return CorruptAtLine(line, "NUL inside the path");
  entry.path = std::string(text);
  return OkStatus();
}

// Built-in templates other than ima, ima-ng and ima-sig, and custom
// "ima_template_fmt" formats, which the list names by their field ids.
bool IsOtherKernelTemplate(std::string_view name) {
  for (std::string_view known : {"ima-ngv2", "ima-sigv2", "ima-buf", "ima-modsig", "evm-sig"}) {
    if (name == known) return true;
  }
  return name.find('|') != std::string_view::npos;
}

// fields: the template's fields, after PCR, template digest and name.
Status ParseTemplateFields(const std::vector<std::string_view>& fields, std::size_t line,
                           ImaEntry& entry) {
  const std::string& name = entry.template_name;
  if (name == kTemplateIma) {
    if (fields.size() != 2) return CorruptAtLine(line, "ima record needs 2 fields: digest path");
    if (fields[0].size() != 2 * kLegacyFileDigestSize) {
      return CorruptAtLine(line, "ima file digest is not 40 hex digits");
    }
    ATTEST_ASSIGN_OR_RETURN(entry.file_digest, DecodeHexField(fields[0], line, "file digest"));
    entry.file_hash_algorithm = "sha1";
    ATTEST_RETURN_IF_ERROR(ParsePath(fields[1], line, entry));
    if (entry.path.size() > kMaxLegacyNameSize) {
      return CorruptAtLine(line, "ima path longer than " + std::to_string(kMaxLegacyNameSize));
    }
    entry.template_data = EncodeLegacyImaHashInput(entry.file_digest, entry.path);
    return OkStatus();
  }
  bool has_signature = name == kTemplateImaSig;
  if (name != kTemplateImaNg && !has_signature) {
    // A kernel template we cannot re-encode is unsupported; any other name
    // (a cut-off "ima-n", garbage) is a corrupt line.
    std::string message = "line " + std::to_string(line) + ": template \"" + Printable(name) +
                          "\" is not supported in ASCII lists (ima, ima-ng, ima-sig)";
    bool kernel_template = IsOtherKernelTemplate(name);
    return MakeError(kernel_template ? ErrorCode::kUnsupported : ErrorCode::kCorrupt,
                     std::move(message));
  }
  // ima-sig: the signature may be absent, or empty after a trailing space.
  bool count_ok = has_signature ? (fields.size() == 2 || fields.size() == 3) : fields.size() == 2;
  if (!count_ok) {
    return CorruptAtLine(
        line, name + " record has " + std::to_string(fields.size()) + " fields, expected " +
                  (has_signature ? "algo:digest path [signature]" : "algo:digest path"));
  }
  ATTEST_RETURN_IF_ERROR(ParseDigestNg(fields[0], line, entry));
  ATTEST_RETURN_IF_ERROR(ParsePath(fields[1], line, entry));
  if (fields.size() == 3) {
    ATTEST_ASSIGN_OR_RETURN(entry.signature, DecodeHexField(fields[2], line, "signature"));
  }
  entry.template_data =
      EncodeImaNgTemplateData(entry.file_hash_algorithm, entry.file_digest, entry.path,
                              has_signature ? &entry.signature : nullptr);
  return OkStatus();
}

Result<ImaEntry> ParseLine(std::string_view text, std::size_t line, std::size_t& digest_size) {
  ImaEntry entry{};
  entry.position = line;
  bool padded = !text.empty() && text[0] == ' ';
  if (padded) text.remove_prefix(1);
  std::vector<std::string_view> fields = SplitOnSpaces(text);
  if (fields.size() < 3) {
    return CorruptAtLine(line, "expected \"PCR template-digest template-name fields...\"");
  }
  ATTEST_ASSIGN_OR_RETURN(entry.pcr, ParsePcr(fields[0], padded, line));

  std::string_view digest_hex = fields[1];
  if (digest_size == 0) {
    if (digest_hex.size() == 40 || digest_hex.size() == 64) digest_size = digest_hex.size() / 2;
  }
  if (digest_hex.size() != 2 * digest_size) {
    return CorruptAtLine(
        line, "template digest has " + std::to_string(digest_hex.size()) +
                  " hex digits, expected " +
                  (digest_size == 0 ? std::string("40 or 64") : std::to_string(2 * digest_size)));
  }
  ATTEST_ASSIGN_OR_RETURN(entry.template_digest,
                          DecodeHexField(digest_hex, line, "template digest"));

  entry.template_name = std::string(fields[2]);
  if (entry.template_name.empty() || entry.template_name.size() > kMaxTemplateNameSize) {
    return CorruptAtLine(line, "bad template name");
  }
  fields.erase(fields.begin(), fields.begin() + 3);
  ATTEST_RETURN_IF_ERROR(ParseTemplateFields(fields, line, entry));
  return entry;
}

}  // namespace

Result<ImaLog> ParseAsciiImaList(ByteView bytes, std::size_t digest_size) {
  ImaLog log{ImaLogFormat::kAscii, digest_size, {}, 0};
  std::string_view text = AsText(bytes);
  std::size_t line = 1;
  // A missing final newline is accepted: every line is checked in full and
  // its template digest covers the whole record.
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view current = text.substr(0, end);
    if (current.empty()) return CorruptAtLine(line, "empty line");
    ATTEST_ASSIGN_OR_RETURN(ImaEntry entry, ParseLine(current, line, log.template_digest_size));
    log.entries.push_back(std::move(entry));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line;
  }
  if (log.template_digest_size == 0) log.template_digest_size = 20;
  return log;
}

}  // namespace attest::verifier::ima_internal
