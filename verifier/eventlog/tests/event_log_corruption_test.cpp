// Hostile framing: truncations, inflated lengths, bad digest lists and
// trailing garbage, on hand-built logs (offsets computed below) and on real
// ones (every event boundary). Each must fail with kCorrupt and the offset of
// the offending field, never crash or over-allocate.
#include <string>

#include <gtest/gtest.h>

#include "attest/testdata.h"
#include "attest/verifier/boot_facts.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/verified_event_log.h"

#include "event_log_test_util.h"
#include "synthetic_boot.h"

namespace attest::verifier {
namespace {

using test::kSha1;
using test::kSha256;
using test::LogBuilder;
using test::ReadEventLog;

const std::vector<std::pair<std::uint16_t, std::uint16_t>> kBanks = {{kSha1, 20}, {kSha256, 32}};

// The offset N in "byte offset N: ...", or -1.
long long ErrorOffset(const Result<EventLog>& result) {
  if (result.ok() || result.error().code != ErrorCode::kCorrupt) return -1;
  const std::string& message = result.error().message;
  if (!message.starts_with("byte offset ")) return -1;
  return std::stoll(message.substr(12));
}

long long ParseOffset(ByteView bytes) { return ErrorOffset(ParseEventLog(bytes)); }

// Spec ID (offsets 0..68) then one event at 69:
//   69 pcrIndex, 73 eventType, 77 digest count, 81 sha1 id, 83 sha1 digest,
//   103 sha256 id, 105 sha256 digest, 137 eventSize, 141 data "abc"; end 144.
Bytes SmallAgileLog() {
  LogBuilder builder;
  builder.SpecId(kBanks).AgileEvent(0, kEvPostCode, kBanks, 0xab, AsBytes("abc"));
  return builder.bytes();
}

void Put32(Bytes& bytes, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}
void Put16(Bytes& bytes, std::size_t offset, std::uint16_t value) {
  bytes[offset] = static_cast<std::uint8_t>(value);
  bytes[offset + 1] = static_cast<std::uint8_t>(value >> 8);
}

TEST(EventLogCorruptionTest, SmallAgileLogParses) {
  Bytes bytes = SmallAgileLog();
  ASSERT_EQ(bytes.size(), 144u);
  Result<EventLog> log = ParseEventLog(bytes);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  ASSERT_EQ(log->events.size(), 2u);
  EXPECT_EQ(log->events[1].offset, 69u);
  EXPECT_EQ(log->events[1].digests.size(), 2u);
  EXPECT_EQ(AsText(log->events[1].data), "abc");
}

TEST(EventLogCorruptionTest, TruncationsReportTheFieldThatDoesNotFit) {
  Bytes bytes = SmallAgileLog();
  auto cut = [&](std::size_t size) { return ParseOffset(ByteView(bytes).first(size)); };
  EXPECT_EQ(cut(0), 0);      // empty
  EXPECT_EQ(cut(31), 0);     // Spec ID record header
  EXPECT_EQ(cut(40), 28);    // Spec ID eventSize larger than what is left
  EXPECT_EQ(cut(70), 69);    // pcrIndex
  EXPECT_EQ(cut(75), 69);    // eventType
  EXPECT_EQ(cut(79), 77);    // digest count
  EXPECT_EQ(cut(82), 81);    // algorithm id
  EXPECT_EQ(cut(90), 83);    // sha1 digest
  EXPECT_EQ(cut(120), 105);  // sha256 digest
  EXPECT_EQ(cut(139), 137);  // eventSize
  EXPECT_EQ(cut(143), 137);  // event data shorter than eventSize
}

TEST(EventLogCorruptionTest, BadFieldsReportTheirOffset) {
  const Bytes good = SmallAgileLog();
  auto with = [&](auto&& mutate) {
    Bytes bytes = good;
    mutate(bytes);
    return ParseOffset(bytes);
  };
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 137, 0xFFFFFFFF); }), 137);  // huge eventSize
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 137, 0); }), 141);  // misframes: 3 bytes left over
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 77, 3); }), 77);    // more digests than banks
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 77, 0); }), 77);    // no digest
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 77, 0xFFFFFFFF); }), 77);
  EXPECT_EQ(with([](Bytes& b) { Put16(b, 81, 0x000C); }), 81);   // sha384 not declared
  EXPECT_EQ(with([](Bytes& b) { Put16(b, 103, kSha1); }), 103);  // sha1 twice
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 69, 24); }), 69);       // PCR out of range
  // Spec ID: numberOfAlgorithms at 56, algorithm entries at 60 and 64,
  // vendorInfoSize at 68.
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 56, 0); }), 56);
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 56, 9); }), 56);
  EXPECT_EQ(with([](Bytes& b) { Put32(b, 56, 0xFFFFFFFF); }), 56);
  EXPECT_EQ(with([](Bytes& b) { Put16(b, 62, 0); }), 62);   // zero-size digest
  EXPECT_EQ(with([](Bytes& b) { Put16(b, 66, 20); }), 66);  // sha256 is not 20 bytes
  EXPECT_EQ(with([](Bytes& b) {
              Put16(b, 64, kSha1);  // algorithm listed twice
              Put16(b, 66, 20);
            }),
            64);
  EXPECT_EQ(with([](Bytes& b) { b[68] = 1; }), 68);  // vendorInfo past the event
  EXPECT_EQ(with([](Bytes& b) { b[55] = 9; }), 55);  // uintnSize
}

TEST(EventLogCorruptionTest, TrailingGarbageIsRejected) {
  Bytes bytes = SmallAgileLog();
  bytes.insert(bytes.end(), {0, 0, 0});
  EXPECT_EQ(ParseOffset(bytes), 144);
  Bytes zeros = SmallAgileLog();
  zeros.insert(zeros.end(), 16, 0);        // a zero-padded tail
  EXPECT_EQ(ParseOffset(zeros), 144 + 8);  // read as an event with 0 digests
}

TEST(EventLogCorruptionTest, SpecIdVendorInfoInsideTheEventIsAccepted) {
  const std::uint8_t vendor[] = {0xde, 0xad, 0xbe, 0xef};
  LogBuilder builder;
  builder.SpecId(kBanks, vendor);
  Result<EventLog> log = ParseEventLog(builder.bytes());
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->spec_id->vendor_info.size(), 4u);
}

TEST(EventLogCorruptionTest, LegacyLogOffsets) {
  LogBuilder builder;
  builder.LegacyEvent(0, kEvSCrtmVersion, 0x11, AsBytes("v1"))
      .LegacyEvent(7, kEvSeparator, 0x22, AsBytes(std::string_view("\0\0\0\0", 4)));
  Bytes bytes = builder.bytes();
  ASSERT_EQ(bytes.size(), 34u + 36u);
  Result<EventLog> log = ParseEventLog(bytes);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(log->events.size(), 2u);
  EXPECT_EQ(ParseOffset(ByteView(bytes).first(34 + 31)), 34);       // header of event 1
  EXPECT_EQ(ParseOffset(ByteView(bytes).first(34 + 33)), 34 + 28);  // its data
  Put32(bytes, 34 + 28, 0x80000000);
  EXPECT_EQ(ParseOffset(bytes), 34 + 28);
}

// Every prefix of a real log: accepted exactly at event boundaries, otherwise
// rejected with an offset inside the event that was cut.
void CheckEveryPrefix(const std::string& name, const Bytes& bytes) {
  SCOPED_TRACE(name);
  Result<EventLog> full = ParseEventLog(bytes);
  ASSERT_TRUE(full.ok()) << full.error().ToString();
  std::vector<std::size_t> boundaries;
  for (const BootEvent& event : full->events) boundaries.push_back(event.offset);
  boundaries.push_back(bytes.size());
  std::size_t event = 0;  // the event that contains byte `size - 1`
  for (std::size_t size = 1; size <= bytes.size(); ++size) {
    while (event + 1 < boundaries.size() && boundaries[event + 1] < size) ++event;
    Result<EventLog> prefix = ParseEventLog(ByteView(bytes).first(size));
    bool at_boundary = size == boundaries[event + 1];
    // A prefix that ends after the Spec ID event is still a valid log.
    if (at_boundary) {
      ASSERT_TRUE(prefix.ok()) << "size " << size << ": " << prefix.error().ToString();
      EXPECT_EQ(prefix->events.size(), event + 1);
      continue;
    }
    long long offset = ErrorOffset(prefix);
    ASSERT_GE(offset, static_cast<long long>(boundaries[event]))
        << "size " << size << ": " << (prefix.ok() ? "accepted" : prefix.error().message);
    // The offending field may start exactly at the cut.
    ASSERT_LE(offset, static_cast<long long>(size)) << "size " << size;
    if (size - boundaries[event] <= 3) {
      ASSERT_EQ(offset, static_cast<long long>(boundaries[event])) << "size " << size;
    }
  }
}

TEST(EventLogCorruptionTest, EveryPrefixOfTheRepositoryFixtures) {
  for (const char* name : {"ovmf-sb-off.bin", "ovmf-sb-on.bin"}) {  // 4 banks
    CheckEveryPrefix(name, test::ReadFixtureEventLog(name));
  }
}

TEST(EventLogCorruptionTest, EveryPrefixOfSharedLogs) {
  ATTEST_NEED_SHARED_TESTDATA();
  for (const char* name : {"imaverify_e5460c7_binary_bios_measurements.bin",  // sha256 agile
                           "goattest_sb_cert_eventlog.bin",                   // 3 banks
                           "tpm2tools_event-uefi-sha1-log.bin"}) {            // SHA1 legacy
    CheckEveryPrefix(name, ReadEventLog(name));
  }
}

// eventSize and digest count of every event set to absurd values.
void CheckInflatedLengths(const std::string& name, const Bytes& bytes) {
  SCOPED_TRACE(name);
  Result<EventLog> log = ParseEventLog(bytes);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  for (std::size_t i = 0; i < log->events.size(); ++i) {
    const BootEvent& event = log->events[i];
    std::size_t size_field = static_cast<std::size_t>(event.data.data() - bytes.data()) - 4;
    for (std::uint32_t value :
         {0xFFFFFFFFu, 0x7FFFFFFFu, static_cast<std::uint32_t>(bytes.size() - size_field)}) {
      Bytes corrupt = bytes;
      Put32(corrupt, size_field, value);
      EXPECT_EQ(ParseOffset(corrupt), static_cast<long long>(size_field)) << "event " << i;
    }
    if (log->format == EventLogFormat::kCryptoAgile && i > 0) {
      Bytes corrupt = bytes;
      Put32(corrupt, event.offset + 8, 9);
      EXPECT_EQ(ParseOffset(corrupt), static_cast<long long>(event.offset + 8)) << "event " << i;
    }
  }
}

TEST(EventLogCorruptionTest, InflatedLengthsInTheRepositoryFixtures) {
  for (const char* name : {"ovmf-sb-off.bin", "ovmf-sb-on.bin"}) {
    CheckInflatedLengths(name, test::ReadFixtureEventLog(name));
  }
}

TEST(EventLogCorruptionTest, InflatedLengthsInSharedLogs) {
  ATTEST_NEED_SHARED_TESTDATA();
  for (const char* name :
       {"keylime_mb_log.bin", "gotpmtools_rhel8-uefi.bin", "gotpmtools_debian-10.bin"}) {
    CheckInflatedLengths(name, ReadEventLog(name));
  }
}

TEST(EventLogCorruptionTest, MalformedPayloadDoesNotRejectTheLog) {
  // A UEFI_VARIABLE_DATA whose name length points far past the event.
  LogBuilder variable;
  variable.Fill(16, 0x61).U64(0xFFFFFFFFFFFFFFF0ull).U64(1);
  LogBuilder image;
  image.U64(0).U64(0).U64(0).U64(1000).Raw("xx");
  LogBuilder builder;
  builder.SpecId(kBanks)
      .AgileEvent(7, kEvEfiVariableDriverConfig, kBanks, 1, variable.bytes())
      .AgileEvent(4, kEvEfiBootServicesApplication, kBanks, 2, image.bytes())
      .AgileEvent(4, 0x8401, kBanks, 3, {});
  Result<EventLog> log = ParseEventLog(builder.bytes());
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  tpm::PcrValues pcrs = ReplayEventLog(*log);
  tpm::PcrValues quoted = pcrs;
  quoted[kSha256][2] = Bytes(32, 0);  // PCR 2, never extended, is quoted too
  VerifiedEventLog verified = VerifyEventLog(*log, pcrs, quoted, {});
  BootFacts facts = ExtractBootFacts(verified);
  EXPECT_FALSE(facts.secure_boot.has_value());
  ASSERT_TRUE(facts.boot_applications.has_value());
  ASSERT_EQ(facts.boot_applications->size(), 2u);  // an unknown type is checked too
  EXPECT_EQ(facts.boot_applications->at(0).device_path, "");
  EXPECT_EQ(pcrs[kSha256].size(), 2u);  // PCRs 4 and 7; unknown types are extended
  nlohmann::json json = EventLogToJson(*log, pcrs);
  EXPECT_TRUE(json["events"][1]["data"].contains("hex"));
  EXPECT_EQ(json["events"][3]["type"], "EV_UNKNOWN");
  EXPECT_EQ(json["events"][3]["type_value"], 0x8401);
}

}  // namespace
}  // namespace attest::verifier
