// Binary lists built by hand and then broken: every length is hostile, every
// truncation is reported at the field it cut, and nothing crashes.
#include <array>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "attest/bytes.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/ima_log.h"

#include "ima_test_util.h"

namespace attest::verifier {
namespace {

using test::Append;
using test::AppendU32;
using test::BinaryRecord;
using test::RecordSpec;

using test::kSha1;
using test::kSha256;

// Record layout for RecordSpec{} (20-byte digest, "ima-ng"): pcr 0, digest 4,
// name length 24, name 28, template data length 34, d-ng length 38,
// d-ng data 42 ("sha256:" NUL + 32 bytes = 40), n-ng length 82, n-ng 86.
Bytes TwoRecords() {
  Bytes list = BinaryRecord(RecordSpec{});
  RecordSpec second;
  second.path = "/etc/passwd";
  Append(list, BinaryRecord(second));
  return list;
}

void SetU32(Bytes& bytes, std::size_t offset, std::uint32_t value) {
  ASSERT_LE(offset + 4, bytes.size());
  const std::uint8_t little_endian[4] = {
      static_cast<std::uint8_t>(value), static_cast<std::uint8_t>(value >> 8),
      static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 24)};
  std::memcpy(bytes.data() + offset, little_endian, sizeof(little_endian));
}

std::string CorruptMessage(ByteView bytes, const ImaLogOptions& options = {}) {
  Result<ImaLog> log = ParseImaLog(bytes, options);
  if (log.ok()) return "accepted";
  EXPECT_EQ(log.error().code, ErrorCode::kCorrupt) << log.error().ToString();
  return log.error().message;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.starts_with(prefix);
}

TEST(ImaBinary, ParsesHandBuiltRecords) {
  Bytes list = TwoRecords();
  Result<ImaLog> log = ParseImaLog(list);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->format, ImaLogFormat::kBinary);
  EXPECT_EQ(log->template_digest_size, 20u);
  ASSERT_EQ(log->entries.size(), 2u);
  const ImaEntry& first = log->entries[0];
  EXPECT_EQ(first.position, 0u);
  EXPECT_EQ(first.pcr, 10u);
  EXPECT_EQ(first.template_name, "ima-ng");
  EXPECT_EQ(first.file_hash_algorithm, "sha256");
  EXPECT_EQ(first.file_digest, Bytes(32, 0xab));
  EXPECT_EQ(first.path, "/usr/bin/true");
  EXPECT_EQ(first.template_data, test::TemplateData(RecordSpec{}));
  EXPECT_FALSE(first.violation());
  EXPECT_EQ(log->entries[1].position, BinaryRecord(RecordSpec{}).size());
  EXPECT_EQ(log->entries[1].path, "/etc/passwd");
}

TEST(ImaBinary, EmptyListHasNoRecords) {
  Result<ImaLog> log = ParseImaLog({});
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(log->entries.empty());
  std::array<std::uint16_t, 1> banks = {kSha256};
  Result<tpm::PcrValues> pcrs = ReplayImaLog(*log, banks);
  ASSERT_TRUE(pcrs.ok());
  EXPECT_TRUE(pcrs->empty());
}

TEST(ImaBinary, TruncationAtEveryOffsetIsReportedInsideTheCutRecord) {
  Bytes list = TwoRecords();
  std::size_t second = BinaryRecord(RecordSpec{}).size();
  for (std::size_t size = 1; size < list.size(); ++size) {
    ByteView cut(list.data(), size);
    Result<ImaLog> log = ParseImaLog(cut, {ImaLogFormat::kBinary, 20, false});
    if (size == second) {
      ASSERT_TRUE(log.ok()) << size;
      EXPECT_EQ(log->entries.size(), 1u);
      continue;
    }
    ASSERT_FALSE(log.ok()) << size;
    ASSERT_EQ(log.error().code, ErrorCode::kCorrupt);
    const std::string& message = log.error().message;
    ASSERT_TRUE(StartsWith(message, "byte offset ")) << message;
    std::size_t offset = std::stoul(message.substr(12));
    std::size_t record = size < second ? 0 : second;
    EXPECT_GE(offset, record) << message;
    EXPECT_LE(offset, size) << message;
  }
}

// Hand-checked positions, one per field.
TEST(ImaBinary, TruncatedFieldsNameTheirOffset) {
  Bytes list = BinaryRecord(RecordSpec{});
  auto cut = [&](std::size_t size) {
    return CorruptMessage(ByteView(list.data(), size), {ImaLogFormat::kBinary, 20, false});
  };
  EXPECT_EQ(cut(20), "byte offset 0: truncated record: header needs 28 bytes, 20 left");
  EXPECT_EQ(cut(30), "byte offset 28: truncated record: template name needs 6 bytes, 2 left");
  EXPECT_EQ(cut(36),
            "byte offset 34: truncated record: template data length needs 4 bytes, 2 left");
  EXPECT_EQ(cut(50), "byte offset 34: template data length 62 exceeds the 12 bytes left");
}

TEST(ImaBinary, HostileLengthsAreRejected) {
  Bytes list = TwoRecords();
  Bytes name = list;
  SetU32(name, 24, 0xffffffff);
  EXPECT_TRUE(StartsWith(CorruptMessage(name),
                         "byte offset 24: template name length 4294967295 is not in 1..255 (and "
                         "with 32-byte template digests: byte offset 36: "));
  ImaLogOptions sha1_list{ImaLogFormat::kBinary, 20, false};
  SetU32(name, 24, 0);
  EXPECT_TRUE(
      StartsWith(CorruptMessage(name, sha1_list), "byte offset 24: template name length 0"));
  SetU32(name, 24, 256);
  EXPECT_TRUE(
      StartsWith(CorruptMessage(name, sha1_list), "byte offset 24: template name length 256"));

  Bytes data = list;
  SetU32(data, 34, 0xffffffff);
  EXPECT_TRUE(StartsWith(CorruptMessage(data), "byte offset 34: template data length 4294967295"));
  Bytes field = list;
  SetU32(field, 38, 0xfffffff0);
  EXPECT_TRUE(StartsWith(CorruptMessage(field), "byte offset 38: d-ng field: length 4294967280"));
  Bytes path = list;
  SetU32(path, 82, 100);
  EXPECT_TRUE(StartsWith(CorruptMessage(path), "byte offset 82: n-ng field: length 100"));
  Bytes pcr = list;
  SetU32(pcr, 0, 24);
  EXPECT_TRUE(StartsWith(CorruptMessage(pcr, sha1_list), "byte offset 0: PCR index 24"));
}

TEST(ImaBinary, MalformedFieldsAreRejected) {
  Bytes algorithm = BinaryRecord(RecordSpec{});
  algorithm[42] = 'x';  // "xha256:"
  EXPECT_EQ(CorruptMessage(algorithm, {ImaLogFormat::kBinary, 20, false}),
            "byte offset 42: d-ng field: unknown file hash algorithm \"xha256\"");
  RecordSpec short_digest;
  short_digest.file_digest = Bytes(31, 1);
  EXPECT_EQ(CorruptMessage(BinaryRecord(short_digest), {ImaLogFormat::kBinary, 20, false}),
            "byte offset 42: d-ng field: sha256 digest has 31 bytes, expected 32");
  Bytes no_nul = BinaryRecord(RecordSpec{});
  no_nul.back() = 'x';
  EXPECT_EQ(CorruptMessage(no_nul, {ImaLogFormat::kBinary, 20, false}),
            "byte offset 86: n-ng field: path is not NUL-terminated");
  RecordSpec inner_nul;
  inner_nul.path = std::string("/a\0b", 4);
  EXPECT_EQ(CorruptMessage(BinaryRecord(inner_nul), {ImaLogFormat::kBinary, 20, false}),
            "byte offset 88: n-ng field: NUL inside the path");
}

TEST(ImaBinary, ExtraFieldInImaNgIsRejected) {
  RecordSpec spec;
  Bytes record = BinaryRecord(spec);
  SetU32(record, 34, static_cast<std::uint32_t>(test::TemplateData(spec).size() + 4));
  AppendU32(record, 0);  // an empty third field
  std::size_t extra = record.size() - 4;
  EXPECT_EQ(CorruptMessage(record, {ImaLogFormat::kBinary, 20, false}),
            "byte offset " + std::to_string(extra) +
                ": 4 bytes after the last field of ima-ng template data");
}

TEST(ImaBinary, TrailingBytesStrictRejectLenientIgnore) {
  Bytes list = TwoRecords();
  std::size_t end = list.size();
  list.push_back('\n');
  EXPECT_EQ(CorruptMessage(list), "byte offset " + std::to_string(end) +
                                      ": 1 trailing bytes after the last record, too few for a "
                                      "record header (28 bytes)");
  ImaLogOptions lenient;
  lenient.allow_trailing_partial_header = true;
  Result<ImaLog> log = ParseImaLog(list, lenient);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->entries.size(), 2u);
  EXPECT_EQ(log->trailing_bytes, 1u);

  // A complete header whose record is cut short is rejected even leniently.
  Bytes tail = BinaryRecord(RecordSpec{});
  list.pop_back();
  Append(list, ByteView(tail.data(), 30));
  EXPECT_TRUE(StartsWith(CorruptMessage(list, lenient), "byte offset " + std::to_string(end + 28)));
}

TEST(ImaBinary, Detects32ByteTemplateDigests) {
  RecordSpec spec;
  spec.digest_size = 32;
  Bytes list = BinaryRecord(spec);
  std::size_t second = list.size();
  // A per-algorithm list keeps the legacy template's 20-byte file digest.
  RecordSpec legacy = spec;
  legacy.template_name = "ima";
  legacy.file_digest = Bytes(20, 0x11);
  Append(list, BinaryRecord(legacy));
  Result<ImaLog> log = ParseImaLog(list);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->template_digest_size, 32u);
  EXPECT_EQ(log->entries[1].position, second);
  EXPECT_EQ(log->entries[1].template_name, "ima");
  std::array<std::uint16_t, 1> banks = {kSha256};
  EXPECT_TRUE(ReplayImaLog(*log, banks).ok());
  EXPECT_EQ(ReplayImaLogLegacyKernel(*log, banks).error().code, ErrorCode::kInvalidArgument);
}

TEST(ImaBinary, LegacyImaTemplate) {
  RecordSpec spec;
  spec.template_name = "ima";
  spec.file_digest = Bytes(20, 0x5a);
  spec.path = std::string(255, 'p');
  Bytes list = BinaryRecord(spec);
  Result<ImaLog> log = ParseImaLog(list);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->entries[0].file_hash_algorithm, "sha1");
  EXPECT_EQ(log->entries[0].template_data.size(), 20u + 256u);
  std::array<std::uint16_t, 2> banks = {kSha1, kSha256};
  EXPECT_TRUE(ReplayImaLog(*log, banks).ok());

  SetU32(list, 4 + 20 + 4 + 3 + 20, 256);  // path length above IMA_EVENT_NAME_LEN_MAX
  EXPECT_EQ(CorruptMessage(list, {ImaLogFormat::kBinary, 20, false}),
            "byte offset 51: ima path length 256 exceeds 255");
}

TEST(ImaBinary, UnknownTemplateIsReplayedNotInterpreted) {
  // ima-buf is d-ng|n-ng|buf, the ima-sig layout with a buffer for "sig".
  RecordSpec as_sig;
  as_sig.template_name = "ima-sig";
  as_sig.signature = ToBytes("buffer");
  Bytes data = test::TemplateData(as_sig);
  Bytes list;
  AppendU32(list, 10);
  Append(list, *tpm::HashWith(*tpm::HashAlgorithmByName("sha1"), data));
  AppendU32(list, 7);
  Append(list, AsBytes("ima-buf"));
  AppendU32(list, static_cast<std::uint32_t>(data.size()));
  Append(list, data);
  Result<ImaLog> log = ParseImaLog(list);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->entries[0].template_data, data);
  EXPECT_TRUE(log->entries[0].path.empty());
  std::array<std::uint16_t, 1> banks = {kSha1};
  EXPECT_TRUE(ReplayImaLog(*log, banks).ok());

  list.push_back(0);  // a field length cut short inside the template data
  SetU32(list, 35, static_cast<std::uint32_t>(data.size() + 1));
  EXPECT_TRUE(StartsWith(CorruptMessage(list, {ImaLogFormat::kBinary, 20, false}),
                         "byte offset " + std::to_string(list.size() - 1) + ": template field"));
}

// A custom template is named by its format string ("d-ng|n-ng|sig|...").
TEST(ImaBinary, LongTemplateNamesAreFineControlCharactersAreNot) {
  Bytes data;
  AppendU32(data, 1);
  data.push_back('x');
  std::string name(200, 'n');
  auto record = [&](std::string_view template_name) {
    Bytes list;
    AppendU32(list, 10);
    Append(list, *tpm::HashWith(*tpm::HashAlgorithmByName("sha1"), data));
    AppendU32(list, static_cast<std::uint32_t>(template_name.size()));
    Append(list, AsBytes(template_name));
    AppendU32(list, static_cast<std::uint32_t>(data.size()));
    Append(list, data);
    return list;
  };
  Result<ImaLog> log = ParseImaLog(record(name));
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->entries[0].template_name, name);
  EXPECT_EQ(CorruptMessage(record("ima ng"), {ImaLogFormat::kBinary, 20, false}),
            "byte offset 28: template name \"ima ng\" is not printable ASCII without spaces");
  EXPECT_EQ(CorruptMessage(record("ima\n"), {ImaLogFormat::kBinary, 20, false}),
            "byte offset 28: template name \"ima?\" is not printable ASCII without spaces");
}

TEST(ImaBinary, TemplateDigestMismatchFailsVerification) {
  Bytes list = TwoRecords();
  std::size_t second = BinaryRecord(RecordSpec{}).size();
  list[second + 90] ^= 1;  // a byte of the second path
  Result<ImaLog> log = ParseImaLog(list);
  ASSERT_TRUE(log.ok());
  std::array<std::uint16_t, 1> banks = {kSha256};
  Result<tpm::PcrValues> pcrs = ReplayImaLog(*log, banks);
  ASSERT_FALSE(pcrs.ok());
  EXPECT_EQ(pcrs.error().code, ErrorCode::kVerificationFailed);
  EXPECT_EQ(pcrs.error().message, "byte offset " + std::to_string(second) +
                                      ": template digest does not match the sha1 of the ima-ng "
                                      "template data");
}

TEST(ImaBinary, ViolationExtendsOnes) {
  RecordSpec spec;
  spec.violation = true;
  spec.file_digest = Bytes(32, 0);
  Result<ImaLog> log = ParseImaLog(BinaryRecord(spec));
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(log->entries[0].violation());
  std::array<std::uint16_t, 2> banks = {kSha1, kSha256};
  Result<tpm::PcrValues> pcrs = ReplayImaLog(*log, banks);
  ASSERT_TRUE(pcrs.ok());
  Bytes zeros_then_ones(32, 0);
  zeros_then_ones.resize(64, 0xff);
  EXPECT_EQ((*pcrs)[kSha256][10],
            *tpm::HashWith(*tpm::HashAlgorithmByName("sha256"), zeros_then_ones));
}

TEST(ImaBinary, BadOptionsAndBanks) {
  Bytes list = TwoRecords();
  EXPECT_EQ(ParseImaLog(list, {ImaLogFormat::kAuto, 7, false}).error().code,
            ErrorCode::kInvalidArgument);
  Result<ImaLog> log = ParseImaLog(list);
  ASSERT_TRUE(log.ok());
  std::array<std::uint16_t, 1> unknown = {0x1234};
  EXPECT_EQ(ReplayImaLog(*log, unknown).error().code, ErrorCode::kInvalidArgument);
  std::array<std::uint16_t, 2> twice = {kSha1, kSha1};
  EXPECT_EQ(ReplayImaLog(*log, twice).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace attest::verifier
