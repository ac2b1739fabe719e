#include "attest/signer/manifest.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "attest/encoding.h"
#include "attest/json_fields.h"
#include "attest/signer/file_digest.h"
#include "attest/utf8.h"

namespace attest::signer {
namespace {

namespace fs = std::filesystem;

Error WalkError(const std::string& directory, const std::error_code& error) {
  return MakeError(ErrorCode::kIo, directory + ": cannot list the tree: " + error.message());
}

Result<ManifestEntry> ParseEntry(const JsonFields& fields, const Json& value,
                                 const std::string& where) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(value, where));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(value, where, {"path", "sha256", "size"}));
  ManifestEntry entry;
  ATTEST_ASSIGN_OR_RETURN(entry.path, fields.String(value, "path", where + ".path"));
  if (entry.path.empty() || entry.path.front() == '/') {
    return fields.Invalid(where + ".path", "must be a non-empty relative path");
  }
  ATTEST_RETURN_IF_ERROR(fields.FixedHex(value, "sha256", where + ".sha256", entry.sha256));
  ATTEST_ASSIGN_OR_RETURN(entry.size, fields.Unsigned(value, "size", where + ".size"));
  return entry;
}

}  // namespace

Result<Manifest> BuildManifest(const std::string& directory) {
  std::error_code error;
  if (!fs::is_directory(fs::symlink_status(directory, error))) {
    return MakeError(ErrorCode::kInvalidArgument, directory + ": not a directory");
  }
  Manifest manifest;
  fs::recursive_directory_iterator it(directory, fs::directory_options::none, error);
  for (fs::recursive_directory_iterator end; !error && it != end; it.increment(error)) {
    fs::file_status status = it->symlink_status(error);
    if (error) break;
    if (!fs::is_regular_file(status)) continue;  // symlinks, FIFOs, devices; dirs recurse
    std::string relative = it->path().lexically_relative(directory).generic_string();
    if (!IsValidUtf8(relative)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       it->path().string() + ": file name is not valid UTF-8; rename it");
    }
    ATTEST_ASSIGN_OR_RETURN(FileDigest digest, HashFileStreaming(it->path(), false));
    manifest.files.push_back({std::move(relative), digest.sha256, digest.size});
  }
  if (error) return WalkError(directory, error);
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  return manifest;
}

Json ManifestToJson(const Manifest& manifest) {
  Json files = Json::array();
  for (const ManifestEntry& entry : manifest.files) {
    files.push_back(
        {{"path", entry.path}, {"sha256", HexEncode(entry.sha256)}, {"size", entry.size}});
  }
  return {{"version", 1}, {"files", std::move(files)}};
}

Result<Manifest> ManifestFromJson(const Json& value, std::string_view name) {
  JsonFields fields(name, ErrorCode::kCorrupt);
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(value, "manifest"));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(value, "manifest", {"version", "files"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version,
                          fields.Unsigned(value, "version", "manifest.version"));
  if (version != 1) return fields.Invalid("manifest.version", "unsupported (this build reads 1)");
  ATTEST_ASSIGN_OR_RETURN(const Json* files, fields.Member(value, "files", "manifest.files"));
  if (!files->is_array()) return fields.Invalid("manifest.files", "must be an array");
  Manifest manifest;
  for (std::size_t i = 0; i < files->size(); ++i) {
    std::string where = "manifest.files[" + std::to_string(i) + "]";
    ATTEST_ASSIGN_OR_RETURN(ManifestEntry entry, ParseEntry(fields, (*files)[i], where));
    if (!manifest.files.empty() && !(manifest.files.back().path < entry.path)) {
      return fields.Invalid(where + ".path",
                            "not sorted bytewise after the previous path, or "
                            "repeated");
    }
    manifest.files.push_back(std::move(entry));
  }
  return manifest;
}

ManifestDiff DiffManifests(const Manifest& signed_manifest, const Manifest& current) {
  ManifestDiff diff;
  auto a = signed_manifest.files.begin();
  auto b = current.files.begin();
  while (a != signed_manifest.files.end() || b != current.files.end()) {
    if (b == current.files.end() || (a != signed_manifest.files.end() && a->path < b->path)) {
      diff.removed.push_back((a++)->path);
    } else if (a == signed_manifest.files.end() || b->path < a->path) {
      diff.added.push_back((b++)->path);
    } else {
      if (a->sha256 != b->sha256 || a->size != b->size) diff.changed.push_back(a->path);
      ++a;
      ++b;
    }
  }
  return diff;
}

}  // namespace attest::signer
