#include "ima_template.h"

#include <algorithm>
#include <array>
#include <utility>

namespace attest::verifier::ima_internal {
namespace {

// The kernel's hash_algo_name entries (include/crypto/hash_info.h) that
// distributions configure IMA with, and their digest sizes. The obsolete
// rest (md4, rmd128/256/320, wp*, tgr*) is rejected as unknown.
constexpr std::array<std::pair<std::string_view, std::size_t>, 13> kFileHashAlgorithms = {{
    {"md5", 16},
    {"sha1", 20},
    {"rmd160", 20},
    {"sha224", 28},
    {"sha256", 32},
    {"sha384", 48},
    {"sha512", 64},
    {"sm3", 32},
    {"streebog256", 32},
    {"streebog512", 64},
    {"sha3-256", 32},
    {"sha3-384", 48},
    {"sha3-512", 64},
}};

void AppendU32Le(std::uint32_t value, Bytes& out) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void AppendField(ByteView data, Bytes& out) {
  AppendU32Le(static_cast<std::uint32_t>(data.size()), out);
  out.insert(out.end(), data.begin(), data.end());
}

// One u32-length-prefixed field; `what` names it in errors.
Result<ByteReader> ReadField(ByteReader& fields, std::string_view what) {
  std::size_t start = fields.offset();
  std::optional<std::uint32_t> size = fields.ReadU32Le();
  if (!size) {
    return CorruptAtOffset(start, std::string(what) + " field: length needs 4 bytes, " +
                                      std::to_string(fields.remaining()) + " left");
  }
  std::optional<ByteReader> data = fields.ReadSubReader(*size);
  if (!data) {
    return CorruptAtOffset(start, std::string(what) + " field: length " + std::to_string(*size) +
                                      " exceeds the " + std::to_string(fields.remaining()) +
                                      " bytes left in the template data");
  }
  return *data;
}

// d-ng: "algo:" NUL digest.
Status ParseDigestNg(ByteReader field, ImaEntry& entry) {
  std::size_t start = field.offset();
  ByteView data = field.rest();
  std::size_t scan = std::min(data.size(), kMaxAlgorithmNameSize + 2);
  std::size_t colon = 0;
  while (colon < scan && data[colon] != ':') ++colon;
  if (colon == scan || colon + 1 >= data.size() || data[colon + 1] != 0) {
    return CorruptAtOffset(start, "d-ng field: no \"algorithm:\" NUL prefix");
  }
  std::string algorithm(AsText(data.first(colon)));
  std::optional<std::size_t> size = FileDigestSize(algorithm);
  if (!size) {
    return CorruptAtOffset(
        start, "d-ng field: unknown file hash algorithm \"" + Printable(algorithm) + "\"");
  }
  ByteView digest = data.subspan(colon + 2);
  if (digest.size() != *size) {
    return CorruptAtOffset(start, "d-ng field: " + algorithm + " digest has " +
                                      std::to_string(digest.size()) + " bytes, expected " +
                                      std::to_string(*size));
  }
  entry.file_hash_algorithm = std::move(algorithm);
  entry.file_digest.assign(digest.begin(), digest.end());
  return OkStatus();
}

// n-ng: the path and its terminating NUL, no NUL inside.
Status ParseNameNg(ByteReader field, ImaEntry& entry) {
  ByteView data = field.rest();
  if (data.empty() || data.back() != 0) {
    return CorruptAtOffset(field.offset(), "n-ng field: path is not NUL-terminated");
  }
  std::string_view path = AsText(data.first(data.size() - 1));
  std::size_t nul = path.find('\0');
  if (nul != std::string_view::npos) {
    return CorruptAtOffset(field.offset() + nul, "n-ng field: NUL inside the path");
  }
  entry.path = std::string(path);
  return OkStatus();
}

}  // namespace

Error CorruptAtOffset(std::size_t offset, std::string_view message) {
  return MakeError(ErrorCode::kCorrupt,
                   "byte offset " + std::to_string(offset) + ": " + std::string(message));
}

Error CorruptAtLine(std::size_t line, std::string_view message) {
  return MakeError(ErrorCode::kCorrupt,
                   "line " + std::to_string(line) + ": " + std::string(message));
}

std::string Printable(std::string_view text) {
  std::string out(text.substr(0, 64));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

std::optional<std::size_t> FileDigestSize(std::string_view algorithm) {
  for (const auto& [name, size] : kFileHashAlgorithms) {
    if (name == algorithm) return size;
  }
  return std::nullopt;
}

Status ParseImaNgFields(ByteReader& fields, bool has_signature, ImaEntry& entry) {
  ATTEST_ASSIGN_OR_RETURN(ByteReader digest, ReadField(fields, "d-ng"));
  ATTEST_RETURN_IF_ERROR(ParseDigestNg(digest, entry));
  ATTEST_ASSIGN_OR_RETURN(ByteReader name, ReadField(fields, "n-ng"));
  ATTEST_RETURN_IF_ERROR(ParseNameNg(name, entry));
  if (has_signature) {
    ATTEST_ASSIGN_OR_RETURN(ByteReader signature, ReadField(fields, "sig"));
    entry.signature.assign(signature.rest().begin(), signature.rest().end());
  }
  if (!fields.empty()) {
    return CorruptAtOffset(fields.offset(), std::to_string(fields.remaining()) +
                                                " bytes after the last field of " +
                                                entry.template_name + " template data");
  }
  return OkStatus();
}

Status CheckGenericFields(ByteReader& fields) {
  while (!fields.empty()) {
    ATTEST_ASSIGN_OR_RETURN(ByteReader field, ReadField(fields, "template"));
    (void)field;
  }
  return OkStatus();
}

Bytes EncodeImaNgTemplateData(std::string_view algorithm, ByteView file_digest,
                              std::string_view path, const Bytes* signature) {
  Bytes digest_field = ToBytes(algorithm);
  digest_field.push_back(':');
  digest_field.push_back(0);
  digest_field.insert(digest_field.end(), file_digest.begin(), file_digest.end());
  Bytes name_field = ToBytes(path);
  name_field.push_back(0);

  Bytes out;
  out.reserve(12 + digest_field.size() + name_field.size() +
              (signature != nullptr ? signature->size() : 0));
  AppendField(digest_field, out);
  AppendField(name_field, out);
  if (signature != nullptr) AppendField(*signature, out);
  return out;
}

Bytes EncodeLegacyImaHashInput(ByteView file_digest, std::string_view path) {
  Bytes out(file_digest.begin(), file_digest.end());
  out.resize(file_digest.size() + kLegacyHashedNameSize, 0);
  std::copy(path.begin(), path.end(),
            out.begin() + static_cast<std::ptrdiff_t>(file_digest.size()));
  return out;
}

}  // namespace attest::verifier::ima_internal
