#include "attest/attestd/runtime_patterns.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <glob.h>

#include "attest/utf8.h"

namespace attest::attestd {
namespace {

// Text as it can be shown in a message: unchanged if it is UTF-8 without
// control characters, else escaped, so a NUL or broken UTF-8 cannot garble
// a log line.
std::string Printable(std::string_view text) {
  if (IsValidUtf8(text) && !HasControlCharacter(text)) return std::string(text);
  return EscapePathBytes(text);
}

// glob(3) reports unreadable directories through a plain function pointer
// with no user data; this is where the callback finds the list of the
// expansion running on its thread.
struct GlobError {
  std::string path;
  int error_number = 0;
};
thread_local std::vector<GlobError>* glob_errors = nullptr;

int OnGlobError(const char* path, int error_number) {
  // ENOENT is a directory that is not there: the no-match warning covers it.
  if (glob_errors != nullptr && error_number != ENOENT && error_number != ENOTDIR) {
    glob_errors->push_back({path, error_number});
  }
  return 0;  // keep going: one unreadable directory must not hide the other matches
}

std::string EventPath(const std::string& path) {
  return IsValidUtf8(path) ? path : EscapePathBytes(path);
}

// Frees a glob_t when the scope ends.
struct GlobResult {
  glob_t value{};
  GlobResult() = default;
  ~GlobResult() { ::globfree(&value); }
  GlobResult(const GlobResult&) = delete;
  GlobResult& operator=(const GlobResult&) = delete;
};

// Sets glob_errors for the duration of one expansion.
class ScopedGlobErrors {
 public:
  explicit ScopedGlobErrors(std::vector<GlobError>* errors) { glob_errors = errors; }
  ~ScopedGlobErrors() { glob_errors = nullptr; }
  ScopedGlobErrors(const ScopedGlobErrors&) = delete;
  ScopedGlobErrors& operator=(const ScopedGlobErrors&) = delete;
};

Status ExpandGlob(const std::string& pattern, PatternExpansion& out) {
  std::vector<GlobError> errors;
  GlobResult matches;
  int rc = 0;
  {
    ScopedGlobErrors scope(&errors);
    // GLOB_NOSORT: the caller sorts everything bytewise; glob sorts by locale.
    // glob(3) is MT-unsafe only for GLOB_TILDE (getpwnam) and the like,
    // which this call does not use.
    rc = ::glob(pattern.c_str(), GLOB_NOSORT, &OnGlobError,  // NOLINT(concurrency-mt-unsafe)
                &matches.value);
  }
  for (const GlobError& error : errors) {
    std::string why = "glob " + pattern + " cannot list this directory: " +
                      std::error_code(error.error_number, std::generic_category()).message();
    out.warnings.push_back("runtime pattern " + pattern + ": cannot read directory " +
                           Printable(error.path));
    out.unreadable_directories.emplace(EventPath(error.path), std::move(why));
  }
  if (rc == GLOB_NOSPACE) {
    return MakeError(ErrorCode::kInternal, "runtime pattern " + pattern + ": glob out of memory");
  }
  if (rc == GLOB_NOMATCH || (rc == 0 && matches.value.gl_pathc == 0)) {
    out.warnings.push_back("runtime pattern " + pattern + " matched no files");
    return OkStatus();
  }
  if (rc != 0) {
    std::string why = "glob failed (code " + std::to_string(rc) + ")";
    out.warnings.push_back("runtime pattern " + pattern + ": " + why);
    out.unreadable_directories.emplace(pattern, std::move(why));
    return OkStatus();
  }
  for (std::size_t i = 0; i < matches.value.gl_pathc; ++i) {
    std::string path = matches.value.gl_pathv[i];
    if (IsValidUtf8(path)) {
      out.paths.push_back(std::move(path));
    } else {
      out.undecodable_paths.push_back(EscapePathBytes(path));
    }
  }
  return OkStatus();
}

void SortUnique(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

std::string EscapePathBytes(std::string_view path) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

bool IsGlobPattern(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

Status ValidateRuntimePattern(std::string_view pattern) {
  auto invalid = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "runtime pattern \"" + Printable(pattern) + "\" " + std::string(why));
  };
  if (pattern.find('\0') != std::string_view::npos) return invalid("contains a NUL byte");
  if (!IsValidUtf8(pattern)) return invalid("is not valid UTF-8");
  if (pattern.empty() || pattern.front() != '/') {
    return invalid("is not an absolute path (it must start with /)");
  }
  return OkStatus();
}

Result<PatternExpansion> ExpandRuntimePatterns(std::span<const std::string> patterns) {
  for (const std::string& pattern : patterns) {
    ATTEST_RETURN_IF_ERROR(ValidateRuntimePattern(pattern));
  }
  PatternExpansion out;
  for (const std::string& pattern : patterns) {
    if (IsGlobPattern(pattern)) {
      ATTEST_RETURN_IF_ERROR(ExpandGlob(pattern, out));
    } else {
      out.paths.push_back(pattern);
    }
  }
  SortUnique(out.paths);
  SortUnique(out.undecodable_paths);
  // One event per path and pass: an unreadable directory's event stands
  // for a match of the same name, so two kinds never take turns.
  auto reported = [&](const std::string& path) {
    return out.unreadable_directories.contains(path);
  };
  std::erase_if(out.undecodable_paths, reported);
  std::erase_if(out.paths, [&](const std::string& path) {
    return reported(path) ||
           std::binary_search(out.undecodable_paths.begin(), out.undecodable_paths.end(), path);
  });
  return out;
}

}  // namespace attest::attestd
