// The runtime measurement list from attestd's config: absolute paths and
// glob(3) patterns, expanded into the sorted set of paths to measure.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attest/error.h"

namespace attest::attestd {

// True when `pattern` holds a glob(3) metacharacter (`*`, `?` or `[`). A
// pattern without one is a literal path: it is measured whether or not it
// exists, so a missing binary shows up as a `missing` event.
bool IsGlobPattern(std::string_view pattern);

// Accepts an absolute path or glob that is valid UTF-8 and holds no NUL
// byte; otherwise kInvalidArgument naming the pattern.
Status ValidateRuntimePattern(std::string_view pattern);

// `path` with every byte outside printable ASCII (0x20-0x7e), and every
// backslash, written as \xNN (lowercase hex): pure ASCII, and different
// for different inputs. For names that are not valid UTF-8.
std::string EscapePathBytes(std::string_view path);

struct PatternExpansion {
  // Literal paths (existing or not) and every glob match whose name is
  // valid UTF-8, sorted bytewise (not by locale) and without duplicates.
  std::vector<std::string> paths;
  // Glob matches whose names are not valid UTF-8, as EscapePathBytes
  // writes them, sorted and without duplicates: each becomes an
  // `unreadable` event with this path (runtime/FORMAT.md §1), never a silent skip.
  // A path in `paths` that reads exactly like one of these is left out of
  // `paths`: the `unreadable` event stands for both, so the two never take
  // turns as the last entry for one path.
  std::vector<std::string> undecodable_paths;
  // Directories a glob could not read (EACCES, EIO, ELOOP...), and globs
  // that failed: each becomes an `unreadable` event for that path, since a
  // binary added there would otherwise go unmeasured. Path (escaped like
  // undecodable_paths when it is not UTF-8) -> why.
  std::map<std::string, std::string> unreadable_directories;
  // For the caller to log: globs that matched nothing, and the unreadable
  // directories again.
  std::vector<std::string> warnings;
};

// Validates every pattern first (kInvalidArgument for the first bad one),
// then expands globs with glob(3): POSIX syntax, no GLOB_NOCHECK, no brace or
// tilde expansion, `*` does not match a leading dot, a backslash escapes a
// metacharacter. Fails otherwise only if glob(3) runs out of memory.
// Thread-safe.
Result<PatternExpansion> ExpandRuntimePatterns(std::span<const std::string> patterns);

}  // namespace attest::attestd
