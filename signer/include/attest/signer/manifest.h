// A directory manifest (FORMAT.md §3): every regular file under a directory
// with its digest, as signed by a directory envelope, and the differences
// between a manifest and the tree as it is now.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attest/error.h"
#include "attest/json.h"
#include "attest/sha256.h"

namespace attest::signer {

struct ManifestEntry {
  std::string path;  // relative, '/'-separated, valid UTF-8
  Sha256Digest sha256{};
  std::uint64_t size = 0;
};

// Entries sorted bytewise by path, no duplicates.
struct Manifest {
  std::vector<ManifestEntry> files;
};

// Walks `directory`: regular files only. Symlinks (to files or directories)
// are neither followed nor listed; nor are FIFOs, sockets or devices. A file
// name that is not valid UTF-8 is an error (kInvalidArgument).
Result<Manifest> BuildManifest(const std::string& directory);

// {"files":[{"path","sha256","size"},...],"version":1}
Json ManifestToJson(const Manifest& manifest);
// Strict; errors (kCorrupt) name `name` and the field.
Result<Manifest> ManifestFromJson(const Json& value, std::string_view name);

struct ManifestDiff {
  std::vector<std::string> added;    // on disk, not in the manifest
  std::vector<std::string> removed;  // in the manifest, not on disk
  std::vector<std::string> changed;  // digest or size differ
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// Pure: compares two sorted manifests.
ManifestDiff DiffManifests(const Manifest& signed_manifest, const Manifest& current);

}  // namespace attest::signer
