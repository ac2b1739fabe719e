// Builders for hand-made IMA lists (records with correct template digests,
// ASCII lines) and access to the repository's fixtures and the shared test
// vectors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/verifier/ima_log.h"

namespace attest::verifier::test {

// TPM_ALG_IDs of the banks the hand-made lists are replayed into.
inline constexpr std::uint16_t kSha1 = 0x0004;
inline constexpr std::uint16_t kSha256 = 0x000B;

// The shared set's ima/ folder. It may be missing: a test that reads it
// starts with ATTEST_NEED_SHARED_TESTDATA() (attest/testdata.h).
std::string ImaTestdataDir();
// The repository's fixtures: testdata/ima.
std::string ImaFixtureDir();
// The whole file; fails the current test if it cannot be read.
Bytes ReadTestFile(const std::string& path);

struct RecordSpec {
  std::uint32_t pcr = kImaPcr;
  std::size_t digest_size = 20;  // template digest: 20 (sha1) or 32 (sha256)
  std::string template_name = "ima-ng";
  std::string algorithm = "sha256";
  Bytes file_digest = Bytes(32, 0xab);
  std::string path = "/usr/bin/true";
  Bytes signature;         // ima-sig only
  bool violation = false;  // zero template digest
};

// The template data the kernel would build for `spec` (legacy ima: the
// hash input), and its template digest.
Bytes TemplateData(const RecordSpec& spec);
Bytes TemplateDigest(const RecordSpec& spec);

// One binary record (little-endian) and one ASCII line (with "\n").
Bytes BinaryRecord(const RecordSpec& spec);
std::string AsciiLine(const RecordSpec& spec);

void Append(Bytes& out, ByteView more);
void AppendU32(Bytes& out, std::uint32_t value);

}  // namespace attest::verifier::test
