// Where tests find their test vectors: the repository's own fixtures
// (testdata/, made by scripts/measured-boot, always there) and the shared set
// of real logs other projects collected (ATTEST_SHARED_TESTDATA_DIR, optional).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace attest::testdata {

// The repository's testdata/ folder joined with `relative` ("eventlogs/x.bin").
std::string FixturePath(std::string_view relative);
// ATTEST_SHARED_TESTDATA_DIR joined with `relative`; the file may not exist.
std::string SharedPath(std::string_view relative);
// Whether the shared directory exists.
bool SharedPresent();
// Whether ATTEST_REQUIRE_SHARED_TESTDATA=1 is set: then a missing shared set
// fails the tests that need it instead of skipping them.
bool SharedRequired();
// One line naming the missing directory, the CMake variable and the
// environment variable, for skips and failures.
std::string SharedMissingMessage();
// Names of the data files directly in `dir` whose name ends in `suffix`
// (sidecars "*.expected.json" excluded), sorted; empty if `dir` is missing.
std::vector<std::string> DataFiles(const std::string& dir, std::string_view suffix = "");

}  // namespace attest::testdata

// Skips the current test when the shared set is absent, visibly (or fails it
// under ATTEST_REQUIRE_SHARED_TESTDATA=1). Use at the top of a test body or
// of SetUp(); it returns from the enclosing function.
#define ATTEST_NEED_SHARED_TESTDATA()                             \
  do {                                                            \
    if (!::attest::testdata::SharedPresent()) {                   \
      if (::attest::testdata::SharedRequired()) {                 \
        FAIL() << ::attest::testdata::SharedMissingMessage();     \
      }                                                           \
      GTEST_SKIP() << ::attest::testdata::SharedMissingMessage(); \
    }                                                             \
  } while (false)
