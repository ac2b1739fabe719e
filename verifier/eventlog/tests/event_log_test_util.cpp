#include "event_log_test_util.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace attest::verifier::testing {

std::string EventLogDir() {
  std::string dir = std::string(ATTEST_TESTDATA_DIR) + "/eventlogs";
  if (!std::filesystem::is_directory(dir)) {
    ADD_FAILURE() << "test vectors missing: " << dir
                  << " does not exist; set the CMake cache variable ATTEST_TESTDATA_DIR";
  }
  return dir;
}

std::vector<std::string> EventLogFiles() {
  std::vector<std::string> names;
  std::string dir = std::string(ATTEST_TESTDATA_DIR) + "/eventlogs";
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name.ends_with(".bin")) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Bytes ReadEventLog(const std::string& name) {
  std::ifstream in(EventLogDir() + "/" + name, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << name << " under ATTEST_TESTDATA_DIR=" << ATTEST_TESTDATA_DIR;
    return {};
  }
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

nlohmann::json ReadSidecar(const std::string& name) {
  std::ifstream in(EventLogDir() + "/" + name + ".expected.json");
  if (!in) {
    ADD_FAILURE() << "cannot read the sidecar of " << name;
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(in);
}

LogBuilder& LogBuilder::U8(std::uint8_t value) {
  bytes_.push_back(value);
  return *this;
}
LogBuilder& LogBuilder::U16(std::uint16_t value) {
  for (int i = 0; i < 2; ++i) bytes_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  return *this;
}
LogBuilder& LogBuilder::U32(std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  return *this;
}
LogBuilder& LogBuilder::U64(std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  return *this;
}
LogBuilder& LogBuilder::Raw(ByteView bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return *this;
}
LogBuilder& LogBuilder::Fill(std::size_t count, std::uint8_t value) {
  bytes_.insert(bytes_.end(), count, value);
  return *this;
}

LogBuilder& LogBuilder::SpecId(
    const std::vector<std::pair<std::uint16_t, std::uint16_t>>& algorithms, ByteView vendor_info) {
  U32(0).U32(3).Fill(20, 0);
  U32(static_cast<std::uint32_t>(16 + 4 + 4 + 4 + 4 * algorithms.size() + 1 + vendor_info.size()));
  Raw(std::string_view("Spec ID Event03\0", 16)).U32(0).U8(0).U8(2).U8(0).U8(2);
  U32(static_cast<std::uint32_t>(algorithms.size()));
  for (const auto& [id, size] : algorithms) U16(id).U16(size);
  U8(static_cast<std::uint8_t>(vendor_info.size())).Raw(vendor_info);
  return *this;
}

LogBuilder& LogBuilder::AgileEvent(
    std::uint32_t pcr, std::uint32_t type,
    const std::vector<std::pair<std::uint16_t, std::uint16_t>>& digests, std::uint8_t fill,
    ByteView data) {
  U32(pcr).U32(type).U32(static_cast<std::uint32_t>(digests.size()));
  for (const auto& [id, size] : digests) U16(id).Fill(size, fill);
  return U32(static_cast<std::uint32_t>(data.size())).Raw(data);
}

LogBuilder& LogBuilder::LegacyEvent(std::uint32_t pcr, std::uint32_t type, std::uint8_t fill,
                                    ByteView data) {
  U32(pcr).U32(type).Fill(20, fill);
  return U32(static_cast<std::uint32_t>(data.size())).Raw(data);
}

}  // namespace attest::verifier::testing
