#include "attest/runtime/log.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <optional>

#include "attest/clock.h"
#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/json.h"
#include "attest/json_fields.h"
#include "attest/utf8.h"

namespace attest::runtime {
namespace {

std::string EntryField(std::size_t index, std::string_view field) {
  return "entries[" + std::to_string(index) + "]." + std::string(field);
}

void AppendField(std::string_view key, std::string_view json_value, std::string& out) {
  out += ',';
  AppendJsonString(key, out);
  out += ':';
  out += json_value;
}

void AppendStringField(std::string_view key, std::string_view value, std::string& out) {
  std::string quoted;
  AppendJsonString(value, quoted);
  AppendField(key, quoted, out);
}

void AppendEntry(const RuntimeEntry& entry, std::uint64_t seq, std::string& out) {
  out += "{\"seq\":" + std::to_string(seq);
  AppendField("pcr", std::to_string(entry.pcr), out);
  AppendStringField("path", entry.path, out);
  AppendStringField("kind", RuntimeKindName(entry.kind), out);
  if (entry.kind == RuntimeKind::kFile) {
    AppendStringField("sha256", HexEncode(AsBytes(entry.sha256)), out);
    AppendField("size", std::to_string(entry.size), out);
  } else {
    AppendStringField("detail", entry.detail, out);
  }
  AppendStringField("time", entry.time, out);
  AppendStringField("extend_digest", HexEncode(AsBytes(RuntimeExtendDigest(entry))), out);
  out += '}';
}

// The strict parser: every error is kCorrupt and names the file and the
// field's place in the document.
class Reader : public JsonFields {
 public:
  explicit Reader(std::string_view name) : JsonFields(name, ErrorCode::kCorrupt) {}

  Error Corrupt(std::string_view where, std::string_view what) const {
    return Invalid(where, what);
  }

  Result<Sha256Digest> Digest(const Json& object, std::string_view key,
                              std::string_view where) const {
    Sha256Digest digest{};
    ATTEST_RETURN_IF_ERROR(FixedHex(object, key, where, digest));
    return digest;
  }

  Status AbsentForKind(const Json& object, std::string_view key, std::string_view where,
                       std::string_view kind) const {
    return Absent(object, key, where, "not allowed for kind \"" + std::string(kind) + "\"");
  }

  Result<RuntimeEntry> Entry(const Json& json, std::size_t index, std::uint64_t skipped,
                             std::uint32_t pcr) const;
};

Result<RuntimeEntry> Reader::Entry(const Json& json, std::size_t index, std::uint64_t skipped,
                                   std::uint32_t pcr) const {
  std::string where = "entries[" + std::to_string(index) + "]";
  // One buffer for every field's path: "entries[3].sha256" is built for each
  // field checked, and a log has thousands of them. Each view is used at
  // once, before the next call.
  std::string path = where + ".";
  const std::size_t prefix = path.size();
  auto at = [&](std::string_view field) -> std::string_view {
    path.resize(prefix);
    path += field;
    return path;
  };
  if (!json.is_object()) return Corrupt(where, "must be an object");
  ATTEST_RETURN_IF_ERROR(OnlyMembers(
      json, where,
      {"seq", "pcr", "path", "kind", "sha256", "size", "detail", "time", "extend_digest"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t seq, Unsigned(json, "seq", at("seq")));
  if (seq != skipped + index + 1) {
    return Corrupt(at("seq"), "expected " + std::to_string(skipped + index + 1) + ", found " +
                                  std::to_string(seq) + " (seq must count " +
                                  std::to_string(skipped + 1) + ", " + std::to_string(skipped + 2) +
                                  ", " + std::to_string(skipped + 3) + ", ...)");
  }
  RuntimeEntry entry;
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t entry_pcr, Unsigned(json, "pcr", at("pcr")));
  if (entry_pcr != pcr) {
    return Corrupt(at("pcr"),
                   "is " + std::to_string(entry_pcr) + " in a log for PCR " + std::to_string(pcr));
  }
  entry.pcr = pcr;
  ATTEST_ASSIGN_OR_RETURN(entry.path, String(json, "path", at("path")));
  ATTEST_ASSIGN_OR_RETURN(std::string kind_name, String(json, "kind", at("kind")));
  std::optional<RuntimeKind> kind = RuntimeKindFromName(kind_name);
  if (!kind) return Corrupt(at("kind"), "unknown kind \"" + kind_name + "\"");
  entry.kind = *kind;
  if (entry.kind == RuntimeKind::kFile) {
    ATTEST_ASSIGN_OR_RETURN(entry.sha256, Digest(json, "sha256", at("sha256")));
    ATTEST_ASSIGN_OR_RETURN(entry.size, Unsigned(json, "size", at("size")));
    ATTEST_RETURN_IF_ERROR(AbsentForKind(json, "detail", at("detail"), kind_name));
  } else {
    ATTEST_RETURN_IF_ERROR(AbsentForKind(json, "sha256", at("sha256"), kind_name));
    ATTEST_RETURN_IF_ERROR(AbsentForKind(json, "size", at("size"), kind_name));
    ATTEST_ASSIGN_OR_RETURN(entry.detail, String(json, "detail", at("detail")));
  }
  ATTEST_ASSIGN_OR_RETURN(entry.time, String(json, "time", at("time")));
  if (Status valid = CheckRuntimeEntry(entry, pcr, index); !valid.ok()) {
    return MakeError(ErrorCode::kCorrupt, std::string(name()) + ": " + valid.error().message);
  }
  ATTEST_ASSIGN_OR_RETURN(Sha256Digest stored, Digest(json, "extend_digest", at("extend_digest")));
  if (Sha256Digest computed = RuntimeExtendDigest(entry); stored != computed) {
    return Corrupt(at("extend_digest"),
                   "does not match the entry (recomputed " + HexEncode(AsBytes(computed)) + ")");
  }
  return entry;
}

}  // namespace

Status CheckRuntimeEntry(const RuntimeEntry& entry, std::uint32_t pcr, std::size_t index) {
  auto invalid = [&](std::string_view field, std::string_view what) {
    return MakeError(ErrorCode::kInvalidArgument,
                     EntryField(index, field) + ": " + std::string(what));
  };
  if (entry.pcr != pcr) return invalid("pcr", "differs from the log's PCR " + std::to_string(pcr));
  if (entry.path.empty() || entry.path.front() != '/') return invalid("path", "must be absolute");
  if (!IsValidUtf8(entry.path)) return invalid("path", "is not valid UTF-8");
  if (RuntimeKindFromName(RuntimeKindName(entry.kind)) != entry.kind) {
    return invalid("kind", "is not a known kind");
  }
  if (entry.kind == RuntimeKind::kSaveFailed && entry.path != kSaveFailedMarkerPath) {
    return invalid("path",
                   "must be " + std::string(kSaveFailedMarkerPath) + " for kind \"save-failed\"");
  }
  if (entry.kind == RuntimeKind::kFile && !entry.detail.empty()) {
    return invalid("detail", "must be empty for kind \"file\"");
  }
  if (entry.kind != RuntimeKind::kFile && (entry.sha256 != Sha256Digest{} || entry.size != 0)) {
    return invalid("sha256", "sha256 and size are only for kind \"file\"");
  }
  if (!IsValidUtf8(entry.detail)) return invalid("detail", "is not valid UTF-8");
  if (!IsRfc3339Utc(entry.time)) {
    return invalid("time", "must be RFC 3339 UTC like 2026-11-22T09:22:00.123456Z");
  }
  return OkStatus();
}

Result<std::string> SerializeRuntimeLog(const RuntimeLog& log, std::size_t max_bytes,
                                        std::uint64_t skipped) {
  if (log.pcr > kMaxRuntimePcr) {
    return MakeError(ErrorCode::kInvalidArgument, "runtime log: PCR " + std::to_string(log.pcr) +
                                                      " is out of range 0.." +
                                                      std::to_string(kMaxRuntimePcr));
  }
  std::string out = "{\"version\":" + std::to_string(kRuntimeLogVersion) +
                    ",\"pcr\":" + std::to_string(log.pcr) + ",\"bank\":\"sha256\",\"entries\":[";
  for (std::size_t i = 0; i < log.entries.size(); ++i) {
    ATTEST_RETURN_IF_ERROR(CheckRuntimeEntry(log.entries[i], log.pcr, i));
    out += i == 0 ? "\n" : ",\n";
    AppendEntry(log.entries[i], skipped + i + 1, out);
  }
  out += log.entries.empty() ? "]}\n" : "\n]}\n";
  if (out.size() > max_bytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "runtime log would be " + std::to_string(out.size()) +
                         " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  return out;
}

Result<RuntimeLog> ParseRuntimeLog(std::string_view text, std::string_view name) {
  Result<Json> parsed = ParseJsonStrict(text);
  if (!parsed.ok()) return Reader(name).Corrupt("JSON", parsed.error().message);
  return ParseRuntimeLogJson(*parsed, name);
}

Result<RuntimeLog> ParseRuntimeLogJson(const Json& root, std::string_view name,
                                       std::uint64_t skipped) {
  Reader reader(name);
  if (!root.is_object()) return reader.Corrupt("document", "must be a JSON object");
  ATTEST_RETURN_IF_ERROR(
      reader.OnlyMembers(root, "document", {"version", "pcr", "bank", "entries"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version, reader.Unsigned(root, "version", "version"));
  if (version != kRuntimeLogVersion) {
    return MakeError(ErrorCode::kUnsupported, std::string(name) + ": version " +
                                                  std::to_string(version) +
                                                  " is not supported (this attestd reads 1)");
  }
  RuntimeLog log;
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t pcr, reader.Unsigned(root, "pcr", "pcr"));
  if (pcr > kMaxRuntimePcr) {
    return reader.Corrupt("pcr", "must be 0.." + std::to_string(kMaxRuntimePcr));
  }
  log.pcr = static_cast<std::uint32_t>(pcr);
  ATTEST_ASSIGN_OR_RETURN(std::string bank, reader.String(root, "bank", "bank"));
  if (bank != "sha256") return reader.Corrupt("bank", "must be \"sha256\"");
  ATTEST_ASSIGN_OR_RETURN(const Json* entries, reader.Member(root, "entries", "entries"));
  if (!entries->is_array()) return reader.Corrupt("entries", "must be an array");
  log.entries.reserve(entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i) {
    ATTEST_ASSIGN_OR_RETURN(RuntimeEntry entry, reader.Entry((*entries)[i], i, skipped, log.pcr));
    log.entries.push_back(std::move(entry));
  }
  return log;
}

Result<RuntimeLog> LoadRuntimeLog(const std::string& path) {
  Result<std::string> text = ReadFile(path, kMaxRuntimeLogBytes);
  if (!text.ok()) {
    // ReadFile says kInvalidArgument for "too large" and "not a regular
    // file": for a log, both mean it is not what attestd wrote.
    if (text.error().code == ErrorCode::kInvalidArgument) {
      return MakeError(ErrorCode::kCorrupt, text.error().message);
    }
    return text.error();
  }
  return ParseRuntimeLog(*text, path);
}

Status SaveRuntimeLog(const std::string& path, const RuntimeLog& log, std::size_t max_bytes) {
  Result<std::string> text = SerializeRuntimeLog(log, max_bytes);
  if (!text.ok()) return text.error().WithContext(path);
  return WriteFileAtomically(path, *text, 0644);
}

}  // namespace attest::runtime
