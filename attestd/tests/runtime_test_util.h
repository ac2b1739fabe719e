// Helpers for the runtime measurement tests: reproducible file contents and
// `sha256sum` as the reference hash (temp dirs and the clock: attest_testing).
#pragma once

#include <cstdint>
#include <string>

#include "attest/attestd/runtime_entry.h"
#include "attest/clock.h"
#include "attest/testing/test_support.h"

namespace attest::testing {

// The two events of FORMAT.md §5: /usr/bin/runc holding the 6 bytes
// "hello\n", and a configured config file that does not exist.
RuntimeEntry ExampleFile();
RuntimeEntry ExampleMissing();

// `size` bytes from a fixed-seed generator: the same content every run.
std::string PseudoRandomBytes(std::size_t size, std::uint32_t seed);

// The lowercase hex digest `sha256sum` prints for `path`, or "" (and a test
// failure) if it cannot be run.
std::string Sha256sumOf(const std::string& path);

}  // namespace attest::testing
