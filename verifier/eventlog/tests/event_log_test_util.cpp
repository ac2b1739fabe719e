#include "event_log_test_util.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "attest/testdata.h"

namespace attest::verifier::test {

std::string EventLogDir() { return testdata::SharedPath("eventlogs"); }

std::vector<std::string> EventLogFiles() { return testdata::DataFiles(EventLogDir(), ".bin"); }

std::vector<std::string> AllEventLogPaths() {
  std::vector<std::string> paths;
  std::string fixtures = testdata::FixturePath("eventlogs");
  for (const std::string& name : testdata::DataFiles(fixtures, ".bin")) {
    paths.push_back(fixtures + "/" + name);
  }
  for (const std::string& name : EventLogFiles()) paths.push_back(EventLogDir() + "/" + name);
  return paths;
}

Bytes ReadEventLogAt(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

nlohmann::json ReadSidecarAt(const std::string& path) {
  std::ifstream in(path + ".expected.json");
  if (!in) {
    ADD_FAILURE() << "cannot read the sidecar of " << path;
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(in);
}

Bytes ReadEventLog(const std::string& name) { return ReadEventLogAt(EventLogDir() + "/" + name); }

nlohmann::json ReadSidecar(const std::string& name) {
  return ReadSidecarAt(EventLogDir() + "/" + name);
}

Bytes ReadFixtureEventLog(const std::string& name) {
  return ReadEventLogAt(testdata::FixturePath("eventlogs/" + name));
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

}  // namespace attest::verifier::test
