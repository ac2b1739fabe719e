// The runtime event encoding, extend digest and replay: byte-exact against
// a hand-built encoding, and pinned to the worked example in runtime/FORMAT.md §5.
#include "attest/runtime/entry.h"

#include <vector>

#include <gtest/gtest.h>

#include "attest/encoding.h"

#include "example_entries.h"

namespace attest::runtime {
namespace {

Sha256Digest DigestFromHex(std::string_view hex) {
  Sha256Digest digest{};
  EXPECT_TRUE(DecodeLowercaseHex(hex, digest)) << hex;
  return digest;
}

std::string Hex(const Sha256Digest& digest) { return HexEncode(AsBytes(digest)); }
std::string Hex(const Bytes& bytes) { return HexEncode(bytes); }

TEST(RuntimeEntryTest, KindNamesRoundTrip) {
  for (RuntimeKind kind : {RuntimeKind::kFile, RuntimeKind::kMissing, RuntimeKind::kUnreadable,
                           RuntimeKind::kUnstable, RuntimeKind::kSaveFailed}) {
    EXPECT_EQ(RuntimeKindFromName(RuntimeKindName(kind)), kind);
  }
  EXPECT_EQ(RuntimeKindName(RuntimeKind::kUnreadable), "unreadable");
  EXPECT_EQ(RuntimeKindName(RuntimeKind::kSaveFailed), "save-failed");
  EXPECT_FALSE(RuntimeKindFromName("File").has_value());
  EXPECT_FALSE(RuntimeKindFromName("").has_value());
  EXPECT_FALSE(RuntimeKindFromName("deleted").has_value());
}

TEST(RuntimeEntryTest, EncodingIsTheDocumentedBytes) {
  RuntimeEntry entry = ExampleFile();
  Bytes expected = ToBytes("attestd runtime measurement v1");
  expected.push_back(0x00);
  auto put = [&](std::string_view field) {
    auto length = static_cast<std::uint32_t>(field.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
      expected.push_back(static_cast<std::uint8_t>(length >> shift));
    }
    expected.insert(expected.end(), field.begin(), field.end());
  };
  put("file");
  put("/usr/bin/runc");
  put(AsText(AsBytes(entry.sha256)));
  EXPECT_EQ(Hex(RuntimeEventEncoding(entry)), Hex(expected));
  EXPECT_EQ(RuntimeExtendDigest(entry), Sha256Of(expected));
}

TEST(RuntimeEntryTest, NonFileKindsEncodeAnEmptyDigest) {
  RuntimeEntry entry = ExampleMissing();
  entry.sha256[0] = 0xff;  // ignored for every kind but file
  Bytes encoding = RuntimeEventEncoding(entry);
  ASSERT_GE(encoding.size(), 4u);
  EXPECT_EQ(Hex(Bytes(encoding.end() - 4, encoding.end())), "00000000");
  EXPECT_EQ(RuntimeExtendDigest(entry), RuntimeExtendDigest(ExampleMissing()));
}

TEST(RuntimeEntryTest, ExtendDigestCoversKindPathAndDigestOnly) {
  const Sha256Digest base = RuntimeExtendDigest(ExampleFile());
  RuntimeEntry informational = ExampleFile();
  informational.pcr = 14;
  informational.size = 7;
  informational.time = "2030-01-01T00:00:00Z";
  EXPECT_EQ(RuntimeExtendDigest(informational), base);

  RuntimeEntry other_path = ExampleFile();
  other_path.path = "/usr/bin/crun";
  EXPECT_NE(RuntimeExtendDigest(other_path), base);
  RuntimeEntry other_digest = ExampleFile();
  other_digest.sha256[31] ^= 1;
  EXPECT_NE(RuntimeExtendDigest(other_digest), base);
  RuntimeEntry other_kind = ExampleFile();
  other_kind.kind = RuntimeKind::kUnstable;
  EXPECT_NE(RuntimeExtendDigest(other_kind), base);
  // Missing and unreadable at one path are different events.
  RuntimeEntry unreadable = ExampleMissing();
  unreadable.kind = RuntimeKind::kUnreadable;
  EXPECT_NE(RuntimeExtendDigest(unreadable), RuntimeExtendDigest(ExampleMissing()));
}

// The worked example of FORMAT.md §5. These hex strings were computed by
// an independent Python implementation of the page (also run by the
// RuntimeFormatDocExample test); this test keeps the C++ in agreement.
TEST(RuntimeEntryTest, FormatDocExampleIsPinned) {
  EXPECT_EQ(Hex(RuntimeEventEncoding(ExampleFile())),
            "617474657374642072756e74696d65206d6561737572656d656e74207631"
            "00"
            "00000004"
            "66696c65"
            "0000000d"
            "2f7573722f62696e2f72756e63"
            "00000020"
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  EXPECT_EQ(Hex(RuntimeEventEncoding(ExampleMissing())),
            "617474657374642072756e74696d65206d6561737572656d656e74207631"
            "00"
            "00000007"
            "6d697373696e67"
            "0000001b"
            "2f6574632f636f6e7461696e6572642f636f6e6669672e746f6d6c"
            "00000000");
  EXPECT_EQ(Hex(RuntimeExtendDigest(ExampleFile())),
            "8281496718c4ca8fd2a74061a84a4014f31121054bae55d0b2c5e9e894b4e774");
  EXPECT_EQ(Hex(RuntimeExtendDigest(ExampleMissing())),
            "24ce9d5e49bd8ef7895a25c6cec6175c9bfabb3a17aa9738e5f93cde991b2ad3");
  std::vector<RuntimeEntry> log = {ExampleFile(), ExampleMissing()};
  EXPECT_EQ(Hex(Replay(std::span(log).first(1))),
            "d1b15f133bf063632f3d5314a26c77d7d64ac8ea9a1d8c7ebaa2b875b331f8a2");
  EXPECT_EQ(Hex(Replay(log)), "41c86d2a3d58d0919b78622d0d90e2e4e5759bf3f0469033eaf0dca2c57245b3");
}

// The failure marker of FORMAT.md §6 is one constant, whatever its pcr,
// detail and time: a verifier can recognize it in a PCR without the log.
// The hex was computed with Python's hashlib from the §2 encoding of
// ("save-failed", "/run/attestd/runtime-log.json", empty digest).
TEST(RuntimeEntryTest, SaveFailedMarkerDigestIsOneConstant) {
  RuntimeEntry marker = SaveFailedMarker(14, "No space left on device", "2026-11-22T09:22:00Z");
  EXPECT_EQ(marker.kind, RuntimeKind::kSaveFailed);
  EXPECT_EQ(marker.path, "/run/attestd/runtime-log.json");
  EXPECT_EQ(marker.pcr, 14u);
  EXPECT_EQ(Hex(RuntimeEventEncoding(marker)),
            "617474657374642072756e74696d65206d6561737572656d656e74207631"
            "00"
            "0000000b"
            "736176652d6661696c6564"
            "0000001d"
            "2f72756e2f617474657374642f72756e74696d652d6c6f672e6a736f6e"
            "00000000");
  EXPECT_EQ(Hex(RuntimeExtendDigest(marker)),
            "13319b5867adcd565d981b42f98577d7072c0f82e2c78872a98f71f3421e9392");
  EXPECT_EQ(SaveFailedExtendDigest(), RuntimeExtendDigest(marker));
  // Not the digest of an unreadable or missing event at the same path.
  RuntimeEntry unreadable = marker;
  unreadable.kind = RuntimeKind::kUnreadable;
  EXPECT_NE(RuntimeExtendDigest(unreadable), SaveFailedExtendDigest());
}

TEST(RuntimeEntryTest, ReplayOfNoEntriesIsTheInitialValue) {
  EXPECT_EQ(Replay({}), Sha256Digest{});
  Sha256Digest initial =
      DigestFromHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  EXPECT_EQ(Replay({}, initial), initial);
}

// PCR_new = SHA-256(PCR_old || extend_digest), by hand with the Sha256 class.
TEST(RuntimeEntryTest, ReplayIsTheTpmExtendChain) {
  RuntimeEntry unreadable = ExampleMissing();
  unreadable.path = "/usr/bin/containerd";
  unreadable.kind = RuntimeKind::kUnreadable;
  std::vector<RuntimeEntry> log = {ExampleFile(), ExampleMissing(), unreadable};

  Sha256Digest pcr{};
  for (const RuntimeEntry& entry : log) {
    Sha256 extend;
    extend.Update(AsBytes(pcr));
    extend.Update(AsBytes(RuntimeExtendDigest(entry)));
    pcr = extend.Finish();
  }
  EXPECT_EQ(Replay(log), pcr);
  // Order matters, and so does every event, error events included.
  std::vector<RuntimeEntry> swapped = {ExampleMissing(), ExampleFile(), unreadable};
  EXPECT_NE(Replay(swapped), pcr);
  EXPECT_NE(Replay(std::span(log).first(2)), pcr);
}

// The verifier replays the firmware's events for the PCR first and hands
// the result over as the starting value.
TEST(RuntimeEntryTest, ReplayStartsFromTheGivenValue) {
  Sha256Digest firmware = Sha256Of(AsBytes("firmware events for PCR 15"));
  std::vector<RuntimeEntry> log = {ExampleFile()};
  Sha256Digest expected =
      Sha256().Update(AsBytes(firmware)).Update(AsBytes(RuntimeExtendDigest(log[0]))).Finish();
  EXPECT_EQ(Replay(log, firmware), expected);
  EXPECT_NE(Replay(log, firmware), Replay(log));
}

}  // namespace
}  // namespace attest::runtime
