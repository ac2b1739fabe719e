#include "attest/ledger/entry.h"

#include <gtest/gtest.h>

#include "attest/encoding.h"

namespace attest::ledger {
namespace {

EntryContent SampleContent() {
  return EntryContent{"2026-01-02T03:04:05.000006Z", "node.enrolled", "verifier", R"({"a":1})",
                      std::nullopt};
}

// The FORMAT.md §2 encoding, written out field by field.
TEST(EntryEncodingTest, MatchesTheDocumentedBytes) {
  const std::string expected =
      "01"                // format version
      "0000000000000001"  // seq, big-endian
      "0000001b"          // len(time) = 27
      "323032362d30312d30325430333a30343a30352e3030303030365a"
      "0000000d"
      "6e6f64652e656e726f6c6c6564"  // "node.enrolled"
      "00000008"
      "7665726966696572"  // "verifier"
      "00000007"
      "7b2261223a317d"  // {"a":1}
      "00";             // not signed
  EXPECT_EQ(HexEncode(EncodeEntry(1, SampleContent())), expected);
  // SHA-256(0x00 || bytes), as printed by Python's hashlib for the same bytes.
  EXPECT_EQ(HexEncode(ComputeEntryHash(1, SampleContent())),
            "00b1b22aea5ee2f8091b0de85c828a27544a4de61b6071aad31fa0ef8c250f3f");
  EXPECT_EQ(ComputeEntryHash(1, SampleContent()), LeafHash(EncodeEntry(1, SampleContent())));
}

TEST(EntryEncodingTest, SignedEntriesEncodeKeyAndSignature) {
  EntryContent content = SampleContent();
  EntrySignature signature{};
  signature.public_key.fill(0xaa);
  signature.signature.fill(0xbb);
  content.signature = signature;
  Bytes encoded = EncodeEntry(7, content);
  ASSERT_EQ(encoded.size(), EncodeEntry(7, SampleContent()).size() + 96);
  EXPECT_EQ(encoded[encoded.size() - 97], 0x01);
  EXPECT_EQ(encoded[encoded.size() - 96], 0xaa);
  EXPECT_EQ(encoded.back(), 0xbb);
}

TEST(EntryEncodingTest, EveryFieldChangesTheHash) {
  const Hash base = ComputeEntryHash(1, SampleContent());
  EXPECT_NE(ComputeEntryHash(2, SampleContent()), base);
  EntryContent changed = SampleContent();
  changed.time.back() = 'X';
  EXPECT_NE(ComputeEntryHash(1, changed), base);
  changed = SampleContent();
  changed.actor = "verifie";
  changed.kind = "node.enrolledr";  // same bytes overall, different split
  EXPECT_NE(ComputeEntryHash(1, changed), base);
  changed = SampleContent();
  changed.payload = R"({"a":2})";
  EXPECT_NE(ComputeEntryHash(1, changed), base);
}

TEST(ChainHashTest, IsHashOfPreviousAndEntry) {
  Sha256 hasher;
  Hash entry = ComputeEntryHash(1, SampleContent());
  Hash chain = ComputeChainHash(kGenesisChainHash, entry, hasher);
  Bytes input(32, 0);
  input.insert(input.end(), entry.begin(), entry.end());
  EXPECT_EQ(chain, Sha256Of(input));
}

NewEntry Valid() {
  return NewEntry{"node.enrolled", "verifier", R"({"b": 2, "a": [1, 2.50]})", {}};
}

std::string Rejection(const NewEntry& entry) {
  auto prepared = PrepareEntry(entry, TimePoint{});
  EXPECT_FALSE(prepared.ok());
  return prepared.ok() ? "" : prepared.error().message;
}

TEST(PrepareEntryTest, CanonicalizesPayloadAndStampsTime) {
  auto prepared = PrepareEntry(Valid(), TimePoint{} + std::chrono::microseconds(1500001));
  ASSERT_TRUE(prepared.ok()) << prepared.error().ToString();
  EXPECT_EQ(prepared->payload, R"({"a":[1,2.5],"b":2})");
  EXPECT_EQ(prepared->time, "1970-01-01T00:00:01.500001Z");
}

TEST(PrepareEntryTest, RejectsBadKinds) {
  NewEntry entry = Valid();
  entry.kind = "";
  EXPECT_NE(Rejection(entry).find("kind is empty"), std::string::npos);
  for (const char* kind : {"node", "Node.enrolled", "node..enrolled", ".node", "node.",
                           "node.enrolled!", "1node.x", "node enrolled"}) {
    entry.kind = kind;
    EXPECT_NE(Rejection(entry).find("malformed"), std::string::npos) << kind;
  }
  entry.kind = "node.exploded";
  EXPECT_NE(Rejection(entry).find("unknown kind \"node.exploded\""), std::string::npos);
  entry.kind = std::string(65, 'a') + ".b";
  EXPECT_NE(Rejection(entry).find("longer than 64"), std::string::npos);
}

TEST(PrepareEntryTest, RejectsBadActors) {
  NewEntry entry = Valid();
  entry.actor = "";
  EXPECT_NE(Rejection(entry).find("actor is empty"), std::string::npos);
  entry.actor = "bad\nactor";
  EXPECT_NE(Rejection(entry).find("control character"), std::string::npos);
  entry.actor = "\xff";
  EXPECT_NE(Rejection(entry).find("not valid UTF-8"), std::string::npos);
  entry.actor = std::string(257, 'a');
  EXPECT_NE(Rejection(entry).find("limit of 256"), std::string::npos);
}

TEST(PrepareEntryTest, RejectsBadPayloads) {
  NewEntry entry = Valid();
  entry.payload_json = "{\"a\":";
  EXPECT_NE(Rejection(entry).find("invalid JSON"), std::string::npos);
  entry.payload_json = "[1,2]";
  EXPECT_NE(Rejection(entry).find("must be a JSON object"), std::string::npos);
  entry.payload_json = "{\"a\":\"\xc3\x28\"}";
  EXPECT_NE(Rejection(entry).find("not valid UTF-8 (byte 6)"), std::string::npos);
  entry.payload_json = R"({"a":1,"a":2})";
  EXPECT_NE(Rejection(entry).find("duplicate object key"), std::string::npos);
  entry.payload_json = "{\"a\":\"" + std::string(kMaxPayloadBytes, 'x') + "\"}";
  EXPECT_NE(Rejection(entry).find("limit of 1048576 (1 MiB)"), std::string::npos);
  // Exactly at the limit is fine.
  entry.payload_json = "{\"a\":\"" + std::string(kMaxPayloadBytes - 8, 'x') + "\"}";
  EXPECT_EQ(entry.payload_json.size(), kMaxPayloadBytes);
  EXPECT_TRUE(PrepareEntry(entry, TimePoint{}).ok());
}

TEST(PrepareEntryTest, ChecksSignaturesOverKindAndPayload) {
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  NewEntry entry{"artifact.approved", "release-bot", R"({"sha256":"ab"})", {}};
  Ed25519Signature signature = key->Sign(SignedMessage(entry.kind, R"({"sha256":"ab"})"));
  entry.signature = EntrySignature{key->public_key(), signature};
  auto prepared = PrepareEntry(entry, TimePoint{});
  ASSERT_TRUE(prepared.ok()) << prepared.error().ToString();
  EXPECT_TRUE(VerifyEntrySignature(*prepared));

  // The same signature cannot turn the approval into a revocation.
  NewEntry replayed = entry;
  replayed.kind = "artifact.revoked";
  auto refused = PrepareEntry(replayed, TimePoint{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kVerificationFailed);
  EXPECT_NE(refused.error().message.find(KeyIdOf(key->public_key())), std::string::npos);

  NewEntry altered = entry;
  altered.payload_json = R"({"sha256":"ac"})";
  EXPECT_FALSE(PrepareEntry(altered, TimePoint{}).ok());
}

TEST(PrepareEntryTest, SignedMessageIsDssePae) {
  EXPECT_EQ(AsText(SignedMessage("cert.revoked", "{}")),
            "DSSEv1 40 application/vnd.attest.cert.revoked+json 2 {}");
}

}  // namespace
}  // namespace attest::ledger
