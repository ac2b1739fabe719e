#include "attest/testdata.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace attest::testdata {
namespace {

std::string Join(std::string_view dir, std::string_view relative) {
  std::string path(dir);
  if (!relative.empty()) path.append("/").append(relative);
  return path;
}

}  // namespace

std::string FixturePath(std::string_view relative) { return Join(ATTEST_FIXTURES_DIR, relative); }

std::string SharedPath(std::string_view relative) {
  return Join(ATTEST_SHARED_TESTDATA_DIR, relative);
}

bool SharedPresent() { return std::filesystem::is_directory(ATTEST_SHARED_TESTDATA_DIR); }

bool SharedRequired() {
  const char* value = std::getenv("ATTEST_REQUIRE_SHARED_TESTDATA");
  return value != nullptr && std::string_view(value) == "1";
}

std::string SharedMissingMessage() {
  return std::string("shared test data missing: ") + ATTEST_SHARED_TESTDATA_DIR +
         " is not a directory (set the CMake cache variable ATTEST_SHARED_TESTDATA_DIR; "
         "ATTEST_REQUIRE_SHARED_TESTDATA=1 makes this a failure)";
}

std::vector<std::string> DataFiles(const std::string& dir, std::string_view suffix) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    if (name.ends_with(".expected.json") || !name.ends_with(suffix)) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace attest::testdata
