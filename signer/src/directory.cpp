// Directory envelopes: a manifest signed as one envelope (FORMAT.md §3).
#include "attest/signer/directory.h"

namespace attest::signer {
namespace {

Result<FileDigest> ManifestDigest(const Manifest& manifest) {
  ATTEST_ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(ManifestToJson(manifest)));
  return FileDigest{Sha256Of(AsBytes(canonical)), canonical.size()};
}

std::string Describe(const ManifestDiff& diff) {
  std::string text = "the tree changed since it was signed:";
  auto list = [&text](std::string_view label, const std::vector<std::string>& paths) {
    if (paths.empty()) return;
    // Appended piece by piece: " " + std::string(...) is a false -Wrestrict
    // in GCC 12 at -O3.
    text += ' ';
    text += label;
    text += ' ';
    text += std::to_string(paths.size());
    text += " (";
    for (std::size_t i = 0; i < paths.size(); ++i) {
      if (i > 0) text += ", ";
      text += paths[i];
    }
    text += ')';
  };
  list("added", diff.added);
  list("removed", diff.removed);
  list("changed", diff.changed);
  return text;
}

}  // namespace

Result<Envelope> SignDirectory(const std::string& directory, const Ed25519PrivateKey& key,
                               Purpose purpose, std::optional<std::string> comment,
                               TimePoint time) {
  ATTEST_ASSIGN_OR_RETURN(Manifest manifest, BuildManifest(directory));
  ATTEST_ASSIGN_OR_RETURN(FileDigest digest, ManifestDigest(manifest));
  return SignDigest(directory, digest, key, purpose, std::move(comment), time, std::move(manifest));
}

Result<DirectoryVerifyResult> VerifyDirectory(const std::string& directory,
                                              const Envelope& envelope, const TrustedKeys& trusted,
                                              Purpose expected) {
  if (!envelope.manifest) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the envelope for " + envelope.path + " signs a single file, not a directory");
  }
  // The manifest as carried must be the one signed: check it against the
  // signed digest before trusting any path in it.
  ATTEST_ASSIGN_OR_RETURN(FileDigest carried, ManifestDigest(*envelope.manifest));
  DirectoryVerifyResult result;
  result.verdict = VerifyEnvelope(envelope, carried, trusted, expected);
  if (result.verdict.reason == VerifyReason::kFileChanged) {
    result.verdict = {VerifyReason::kBadSignature,
                      "the manifest in the envelope is not the one signed (the envelope was "
                      "altered)"};
  }
  if (!result.verdict.valid()) return result;
  ATTEST_ASSIGN_OR_RETURN(Manifest current, BuildManifest(directory));
  result.diff = DiffManifests(*envelope.manifest, current);
  if (!result.diff.empty()) {
    result.verdict = {VerifyReason::kFileChanged, Describe(result.diff)};
  }
  return result;
}

}  // namespace attest::signer
