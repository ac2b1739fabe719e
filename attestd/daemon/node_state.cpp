#include "attest/attestd/node_state.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/json.h"
#include "attest/json_fields.h"

namespace attest::attestd {
namespace {

constexpr std::size_t kMaxStateBytes = 1 << 20;
constexpr std::uint64_t kIdentityVersion = 1;

std::string IdentityPath(const std::string& state_dir) { return state_dir + "/identity.json"; }
std::string StatusPath(const std::string& state_dir) { return state_dir + "/status.json"; }

Json BlobToJson(const KeyBlob& blob) {
  return {{"public", Base64Encode(blob.public_area)}, {"private", Base64Encode(blob.private_area)}};
}

Result<KeyBlob> BlobFromJson(const JsonFields& fields, const Json& value, std::string_view where) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(value, where));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(value, where, {"public", "private"}));
  KeyBlob blob;
  ATTEST_ASSIGN_OR_RETURN(blob.public_area, fields.Base64(value, "public", where));
  ATTEST_ASSIGN_OR_RETURN(blob.private_area, fields.Base64(value, "private", where));
  return blob;
}

// nullopt when the file does not exist.
Result<std::optional<Json>> ReadJsonFile(const std::string& path) {
  Result<std::string> text = ReadFile(path, kMaxStateBytes);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) return std::optional<Json>();
    return text.error();
  }
  Result<Json> json = ParseJsonStrict(*text);
  if (!json.ok()) return MakeError(ErrorCode::kCorrupt, path + ": " + json.error().message);
  return std::optional<Json>(std::move(json).value());
}

Result<std::int64_t> Signed(const JsonFields& fields, const Json& object, std::string_view key) {
  ATTEST_ASSIGN_OR_RETURN(const Json* value, fields.Member(object, key, ""));
  if (!value->is_number_integer()) return fields.Invalid(key, "must be an integer");
  return value->get<std::int64_t>();
}

}  // namespace

Status PrepareStateDirectory(const std::string& state_dir) {
  if (mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return MakeError(ErrorCode::kIo, state_dir + ": cannot create: " + std::strerror(errno));
  }
  struct stat info {};
  if (stat(state_dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, state_dir + ": not a directory");
  }
  if ((info.st_mode & 0022) != 0) {
    return MakeError(ErrorCode::kPermissionDenied,
                     state_dir + ": group or others may write it; make it 0700");
  }
  return OkStatus();
}

Result<FileDescriptor> LockStateDirectory(const std::string& state_dir) {
  ATTEST_RETURN_IF_ERROR(PrepareStateDirectory(state_dir));
  const std::string path = state_dir + "/lock";
  FileDescriptor fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0)
    return MakeError(ErrorCode::kIo, path + ": cannot open: " + std::strerror(errno));
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return MakeError(ErrorCode::kBusy, state_dir + " is in use by another attestd process");
  }
  return fd;
}

Result<std::optional<NodeIdentity>> LoadIdentity(const std::string& state_dir) {
  const std::string path = IdentityPath(state_dir);
  ATTEST_ASSIGN_OR_RETURN(std::optional<Json> json, ReadJsonFile(path));
  if (!json) return std::optional<NodeIdentity>();
  const JsonFields fields(path, ErrorCode::kCorrupt);
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(*json, ""));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(
      *json, "",
      {"version", "ek_algorithm", "ak", "node_id", "enrollment_id", "enrolled", "node_key"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version, fields.Unsigned(*json, "version", ""));
  if (version != kIdentityVersion) {
    return fields.Invalid("version", "is " + std::to_string(version) + "; this attestd reads 1");
  }
  NodeIdentity identity;
  ATTEST_ASSIGN_OR_RETURN(std::string ek, fields.String(*json, "ek_algorithm", ""));
  if (ek != "rsa" && ek != "ecc") return fields.Invalid("ek_algorithm", "must be rsa or ecc");
  identity.ek_algorithm = ek == "rsa" ? EkAlgorithm::kRsa : EkAlgorithm::kEcc;
  ATTEST_ASSIGN_OR_RETURN(const Json* ak, fields.Member(*json, "ak", ""));
  ATTEST_ASSIGN_OR_RETURN(identity.ak, BlobFromJson(fields, *ak, "ak"));
  ATTEST_ASSIGN_OR_RETURN(identity.node_id, fields.String(*json, "node_id", ""));
  ATTEST_ASSIGN_OR_RETURN(identity.enrollment_id, fields.String(*json, "enrollment_id", ""));
  ATTEST_ASSIGN_OR_RETURN(identity.enrolled, fields.Boolean(*json, "enrolled", ""));
  if (const Json* key = FindMember(*json, "node_key"); key != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(identity.node_key, BlobFromJson(fields, *key, "node_key"));
  }
  return std::optional<NodeIdentity>(std::move(identity));
}

Status SaveIdentity(const std::string& state_dir, const NodeIdentity& identity) {
  Json json = {{"version", kIdentityVersion},
               {"ek_algorithm", identity.ek_algorithm == EkAlgorithm::kRsa ? "rsa" : "ecc"},
               {"ak", BlobToJson(identity.ak)},
               {"node_id", identity.node_id},
               {"enrollment_id", identity.enrollment_id},
               {"enrolled", identity.enrolled}};
  if (identity.node_key) json["node_key"] = BlobToJson(*identity.node_key);
  return WriteFileAtomically(IdentityPath(state_dir), json.dump(2) + "\n", 0600);
}

Result<std::optional<AttestationStatus>> LoadStatus(const std::string& state_dir) {
  const std::string path = StatusPath(state_dir);
  ATTEST_ASSIGN_OR_RETURN(std::optional<Json> json, ReadJsonFile(path));
  if (!json) return std::optional<AttestationStatus>();
  const JsonFields fields(path, ErrorCode::kCorrupt);
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(*json, ""));
  AttestationStatus status;
  ATTEST_ASSIGN_OR_RETURN(status.time, Signed(fields, *json, "time"));
  ATTEST_ASSIGN_OR_RETURN(status.state, fields.String(*json, "state", ""));
  ATTEST_ASSIGN_OR_RETURN(status.problem, fields.String(*json, "problem", ""));
  ATTEST_ASSIGN_OR_RETURN(status.certificate_not_after,
                          Signed(fields, *json, "certificate_not_after"));
  ATTEST_ASSIGN_OR_RETURN(status.last_trusted, Signed(fields, *json, "last_trusted"));
  ATTEST_ASSIGN_OR_RETURN(status.runtime_entries, fields.Unsigned(*json, "runtime_entries", ""));
  ATTEST_ASSIGN_OR_RETURN(const Json* reasons, fields.Member(*json, "reasons", ""));
  if (!reasons->is_array()) return fields.Invalid("reasons", "must be an array");
  for (const Json& reason : *reasons) {
    ATTEST_RETURN_IF_ERROR(fields.RequireObject(reason, "reasons[]"));
    ReasonSummary summary;
    ATTEST_ASSIGN_OR_RETURN(summary.code, fields.String(reason, "code", "reasons[]"));
    ATTEST_ASSIGN_OR_RETURN(summary.detail, fields.String(reason, "detail", "reasons[]"));
    status.reasons.push_back(std::move(summary));
  }
  return std::optional<AttestationStatus>(std::move(status));
}

Status SaveStatus(const std::string& state_dir, const AttestationStatus& status) {
  Json reasons = Json::array();
  for (const ReasonSummary& reason : status.reasons) {
    reasons.push_back({{"code", reason.code}, {"detail", reason.detail}});
  }
  const Json json = {{"time", status.time},
                     {"state", status.state},
                     {"reasons", std::move(reasons)},
                     {"problem", status.problem},
                     {"certificate_not_after", status.certificate_not_after},
                     {"last_trusted", status.last_trusted},
                     {"runtime_entries", status.runtime_entries}};
  return WriteFileAtomically(StatusPath(state_dir), json.dump(2) + "\n", 0600);
}

}  // namespace attest::attestd
