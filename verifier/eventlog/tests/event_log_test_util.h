// Helpers for the event log tests: the repository's fixtures and the shared
// test vectors, and a builder for small synthetic logs whose every offset the
// test can compute.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/bytes.h"

namespace attest::verifier::test {

// The shared set's eventlogs/ folder. It may be missing: a test that reads
// it starts with ATTEST_NEED_SHARED_TESTDATA() (attest/testdata.h).
std::string EventLogDir();
// The *.bin names in EventLogDir(), sorted; empty if the directory is missing.
std::vector<std::string> EventLogFiles();
// Full paths of every log: the repository's fixtures (testdata/eventlogs),
// then the shared set's when it is there.
std::vector<std::string> AllEventLogPaths();
// Reads the shared set's eventlogs/NAME (fails the test and returns empty on
// error), and its sidecar.
Bytes ReadEventLog(const std::string& name);
nlohmann::json ReadSidecar(const std::string& name);
// The repository's fixture testdata/eventlogs/NAME.
Bytes ReadFixtureEventLog(const std::string& name);
// A log and its sidecar (PATH.expected.json) by full path.
Bytes ReadEventLogAt(const std::string& path);
nlohmann::json ReadSidecarAt(const std::string& path);

// Little-endian writer for synthetic logs.
class LogBuilder {
 public:
  LogBuilder& U8(std::uint8_t value);
  LogBuilder& U16(std::uint16_t value);
  LogBuilder& U32(std::uint32_t value);
  LogBuilder& U64(std::uint64_t value);
  LogBuilder& Raw(ByteView bytes);
  LogBuilder& Raw(std::string_view text) { return Raw(AsBytes(text)); }
  LogBuilder& Fill(std::size_t count, std::uint8_t value);
  // A Spec ID event (legacy framing) declaring `algorithms` (id, size).
  LogBuilder& SpecId(const std::vector<std::pair<std::uint16_t, std::uint16_t>>& algorithms,
                     ByteView vendor_info = {});
  // TCG_PCR_EVENT2 with one digest per (id, size), each filled with `fill`.
  LogBuilder& AgileEvent(std::uint32_t pcr, std::uint32_t type,
                         const std::vector<std::pair<std::uint16_t, std::uint16_t>>& digests,
                         std::uint8_t fill, ByteView data);
  // TCG_PCClientPCREvent with a SHA-1 digest filled with `fill`.
  LogBuilder& LegacyEvent(std::uint32_t pcr, std::uint32_t type, std::uint8_t fill, ByteView data);
  std::size_t size() const { return bytes_.size(); }
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

}  // namespace attest::verifier::test
