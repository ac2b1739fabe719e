// binary_runtime_measurements, as security/integrity/ima/ima_fs.c
// (ima_measurements_show) writes it, in the host's (little-endian) order:
//   u32 pcr | template digest | u32 name length | name |
//   ima:        file digest[20] | u32 path length | path (no NUL)
//   any other:  u32 template data length | template data (u32-prefixed fields)
#include <algorithm>
#include <array>
#include <utility>

#include "ima_template.h"

namespace attest::verifier::ima_internal {
namespace {

std::string Truncated(std::string_view what, std::size_t needed, std::size_t left) {
  return "truncated record: " + std::string(what) + " needs " + std::to_string(needed) +
         " bytes, " + std::to_string(left) + " left";
}

// The legacy template stores no template-data length: the file digest and a
// length-prefixed path without its NUL (IMA_SHOW_BINARY_OLD_STRING_FMT).
Status ParseLegacyImaData(ByteReader& reader, ImaEntry& entry) {
  std::size_t start = reader.offset();
  std::optional<ByteView> digest = reader.ReadBytes(kLegacyFileDigestSize);
  if (!digest) {
    return CorruptAtOffset(start,
                           Truncated("ima file digest", kLegacyFileDigestSize, reader.remaining()));
  }
  std::size_t length_offset = reader.offset();
  std::optional<std::uint32_t> length = reader.ReadU32Le();
  if (!length)
    return CorruptAtOffset(length_offset, Truncated("path length", 4, reader.remaining()));
  if (*length > kMaxLegacyNameSize) {
    return CorruptAtOffset(length_offset, "ima path length " + std::to_string(*length) +
                                              " exceeds " + std::to_string(kMaxLegacyNameSize));
  }
  std::optional<ByteView> path = reader.ReadBytes(*length);
  if (!path) {
    return CorruptAtOffset(length_offset + 4, Truncated("path", *length, reader.remaining()));
  }
  std::string_view text = AsText(*path);
  if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return CorruptAtOffset(length_offset + 4 + nul, "NUL inside the ima path");
  }
  entry.file_hash_algorithm = "sha1";
  entry.file_digest.assign(digest->begin(), digest->end());
  entry.path = std::string(text);
  entry.template_data = EncodeLegacyImaHashInput(*digest, text);
  return OkStatus();
}

Status ParseTemplateData(ByteReader& reader, ImaEntry& entry) {
  std::size_t length_offset = reader.offset();
  std::optional<std::uint32_t> length = reader.ReadU32Le();
  if (!length) {
    return CorruptAtOffset(length_offset, Truncated("template data length", 4, reader.remaining()));
  }
  std::optional<ByteReader> data = reader.ReadSubReader(*length);
  if (!data) {
    return CorruptAtOffset(length_offset, "template data length " + std::to_string(*length) +
                                              " exceeds the " + std::to_string(reader.remaining()) +
                                              " bytes left");
  }
  ByteView raw = data->rest();
  if (entry.template_name == kTemplateImaNg || entry.template_name == kTemplateImaSig) {
    ATTEST_RETURN_IF_ERROR(ParseImaNgFields(*data, entry.template_name == kTemplateImaSig, entry));
  } else {
    // ima-buf, ima-modsig, ...: replayable, not interpreted.
    ATTEST_RETURN_IF_ERROR(CheckGenericFields(*data));
  }
  entry.template_data.assign(raw.begin(), raw.end());
  return OkStatus();
}

// u32 length and name: printable ASCII without spaces, as the ASCII list
// must be able to print it.
Result<std::string> ReadTemplateName(ByteReader& reader) {
  std::size_t name_offset = reader.offset();
  std::optional<std::uint32_t> name_size = reader.ReadU32Le();
  if (!name_size) {
    return CorruptAtOffset(name_offset, Truncated("template name length", 4, reader.remaining()));
  }
  if (*name_size == 0 || *name_size > kMaxTemplateNameSize) {
    return CorruptAtOffset(name_offset, "template name length " + std::to_string(*name_size) +
                                            " is not in 1.." +
                                            std::to_string(kMaxTemplateNameSize));
  }
  std::optional<ByteView> name = reader.ReadBytes(*name_size);
  if (!name) {
    return CorruptAtOffset(name_offset + 4,
                           Truncated("template name", *name_size, reader.remaining()));
  }
  std::string text(AsText(*name));
  bool printable =
      std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!printable) {
    return CorruptAtOffset(name_offset + 4, "template name \"" + Printable(text) +
                                                "\" is not printable ASCII without spaces");
  }
  return text;
}

Result<ImaEntry> ParseRecord(ByteReader& reader, std::size_t digest_size) {
  ImaEntry entry{};
  entry.position = reader.offset();
  std::optional<std::uint32_t> pcr = reader.ReadU32Le();
  if (!pcr) return CorruptAtOffset(entry.position, Truncated("PCR index", 4, reader.remaining()));
  if (*pcr >= kPcrCount) {
    return CorruptAtOffset(entry.position, "PCR index " + std::to_string(*pcr) + " is not below " +
                                               std::to_string(kPcrCount));
  }
  entry.pcr = *pcr;

  std::size_t digest_offset = reader.offset();
  std::optional<ByteView> digest = reader.ReadBytes(digest_size);
  if (!digest) {
    return CorruptAtOffset(digest_offset,
                           Truncated("template digest", digest_size, reader.remaining()));
  }
  entry.template_digest.assign(digest->begin(), digest->end());

  ATTEST_ASSIGN_OR_RETURN(entry.template_name, ReadTemplateName(reader));
  // In a per-algorithm sha256 list the legacy template keeps its 20-byte
  // file digest; only the template digest is sha256.
  if (entry.template_name == kTemplateIma) {
    ATTEST_RETURN_IF_ERROR(ParseLegacyImaData(reader, entry));
  } else {
    ATTEST_RETURN_IF_ERROR(ParseTemplateData(reader, entry));
  }
  return entry;
}

// Template digests are 20 bytes (sha1) in the classic list and 32 in the
// per-algorithm sha256 list; nothing in the file says which. The first
// record decides: with the wrong size its name length lands in digest or
// name bytes and fails the bounds above. 20 wins if both parse.
Result<std::size_t> DetectDigestSize(ByteView bytes) {
  constexpr std::array<std::size_t, 2> kCandidates = {20, 32};
  std::optional<Error> first_error;
  for (std::size_t size : kCandidates) {
    ByteReader reader(bytes);
    Result<ImaEntry> record = ParseRecord(reader, size);
    if (record.ok()) return size;
    if (!first_error) {
      first_error = record.error();
    } else if (record.error().message != first_error->message) {
      first_error->message +=
          " (and with 32-byte template digests: " + record.error().message + ")";
    }
  }
  return *std::move(first_error);
}

}  // namespace

Result<ImaLog> ParseBinaryImaList(ByteView bytes, std::size_t digest_size,
                                  bool allow_trailing_partial_header) {
  ImaLog log{ImaLogFormat::kBinary, digest_size, {}, 0};
  if (bytes.empty()) {
    if (log.template_digest_size == 0) log.template_digest_size = 20;
    return log;
  }
  if (log.template_digest_size == 0) {
    ATTEST_ASSIGN_OR_RETURN(log.template_digest_size, DetectDigestSize(bytes));
  }
  const std::size_t header_size = 4 + log.template_digest_size + 4;
  ByteReader reader(bytes);
  while (!reader.empty()) {
    if (reader.remaining() < header_size) {
      if (allow_trailing_partial_header) {
        log.trailing_bytes = reader.remaining();
        break;
      }
      if (log.entries.empty()) {
        return CorruptAtOffset(0, Truncated("header", header_size, reader.remaining()));
      }
      return CorruptAtOffset(reader.offset(), std::to_string(reader.remaining()) +
                                                  " trailing bytes after the last record, too "
                                                  "few for a record header (" +
                                                  std::to_string(header_size) + " bytes)");
    }
    ATTEST_ASSIGN_OR_RETURN(ImaEntry entry, ParseRecord(reader, log.template_digest_size));
    log.entries.push_back(std::move(entry));
  }
  return log;
}

}  // namespace attest::verifier::ima_internal
