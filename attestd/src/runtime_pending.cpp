#include "attest/attestd/runtime_pending.h"

#include <cerrno>

#include <unistd.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/json.h"
#include "attest/json_fields.h"

namespace attest::attestd {
namespace {

constexpr std::uint64_t kPendingVersion = 1;
// The marker is under 120 bytes; anything much bigger is not one.
constexpr std::size_t kMaxPendingBytes = 4096;

}  // namespace

std::string PendingExtendPath(std::string_view log_path) {
  return std::string(log_path) + ".pending";
}

std::string SerializePendingExtend(const PendingExtend& pending) {
  return "{\"version\":" + std::to_string(kPendingVersion) +
         ",\"seq\":" + std::to_string(pending.seq) + ",\"extend_digest\":\"" +
         HexEncode(AsBytes(pending.extend_digest)) + "\"}\n";
}

Result<PendingExtend> ParsePendingExtend(std::string_view text, std::string_view name) {
  JsonFields fields(name, ErrorCode::kCorrupt);
  Result<Json> parsed = ParseJsonStrict(text);
  if (!parsed.ok()) return fields.Invalid("JSON", parsed.error().message);
  const Json& root = *parsed;
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(root, "document"));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(root, "document", {"version", "seq", "extend_digest"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version, fields.Unsigned(root, "version", "version"));
  if (version != kPendingVersion) return fields.Invalid("version", "must be 1");
  PendingExtend pending;
  ATTEST_ASSIGN_OR_RETURN(pending.seq, fields.Unsigned(root, "seq", "seq"));
  if (pending.seq == 0) return fields.Invalid("seq", "must be 1 or more");
  ATTEST_RETURN_IF_ERROR(
      fields.FixedHex(root, "extend_digest", "extend_digest", pending.extend_digest));
  return pending;
}

Result<std::optional<PendingExtend>> LoadPendingExtend(const std::string& path) {
  Result<std::string> text = ReadFile(path, kMaxPendingBytes);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) return std::optional<PendingExtend>();
    if (text.error().code == ErrorCode::kInvalidArgument) {
      return MakeError(ErrorCode::kCorrupt, text.error().message);
    }
    return text.error();
  }
  ATTEST_ASSIGN_OR_RETURN(PendingExtend pending, ParsePendingExtend(*text, path));
  return std::optional<PendingExtend>(pending);
}

Status SavePendingExtend(const std::string& path, const PendingExtend& pending) {
  return WriteFileAtomically(path, SerializePendingExtend(pending), 0644);
}

Status RemovePendingExtend(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return OkStatus();
  return ErrorFromErrno(errno, "unlink", path);
}

}  // namespace attest::attestd
