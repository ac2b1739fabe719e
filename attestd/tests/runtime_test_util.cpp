#include "runtime_test_util.h"

#include <array>
#include <cstdio>
#include <random>

#include <gtest/gtest.h>

namespace attest::test {

std::string PseudoRandomBytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator() & 0xff);
  return bytes;
}

std::string Sha256sumOf(const std::string& path) {
  // Paths here come from TempDir and test literals: no single quotes.
  EXPECT_EQ(path.find('\''), std::string::npos);
  std::string command = "sha256sum -- '" + path + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return "";
  }
  std::array<char, 65> digest{};
  std::size_t read = std::fread(digest.data(), 1, 64, pipe);
  int status = ::pclose(pipe);
  if (read != 64 || status != 0) {
    ADD_FAILURE() << command << " failed (status " << status << ")";
    return "";
  }
  return digest.data();
}

}  // namespace attest::test
