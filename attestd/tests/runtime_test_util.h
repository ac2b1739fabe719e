// Helpers for the runtime hashing tests: reproducible file contents and
// `sha256sum` as the reference hash (temp dirs and the clock: attest_testing).
#pragma once

#include <cstdint>
#include <string>

#include "attest/testing/test_support.h"

namespace attest::test {

// `size` bytes from a fixed-seed generator: the same content every run.
std::string PseudoRandomBytes(std::size_t size, std::uint32_t seed);

// The lowercase hex digest `sha256sum` prints for `path`, or "" (and a test
// failure) if it cannot be run.
std::string Sha256sumOf(const std::string& path);

}  // namespace attest::test
