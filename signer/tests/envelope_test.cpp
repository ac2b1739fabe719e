#include "attest/signer/envelope.h"

#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "attest/dsse.h"
#include "attest/encoding.h"
#include "attest/ledger/entry.h"
#include "attest/signer/verify.h"
#include "attest/testing/test_support.h"

#include "test_time.h"

namespace attest::signer {
namespace {

using attest::test::ReadText;
using attest::test::TempDir;
using attest::test::WriteText;

class EnvelopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(file_, "#!/bin/sh\necho hello\n");
    trusted_.Add(MakePublicKeyInfo(key_.public_key()));
  }
  Envelope Sign(Purpose purpose = Purpose::kArtifact) {
    auto envelope = SignFile(file_, key_, purpose, "approved in CR-42", test::kSigningTime);
    EXPECT_TRUE(envelope.ok()) << envelope.error().ToString();
    return std::move(envelope).value();
  }
  VerifyResult Verify(const Envelope& envelope, Purpose expected = Purpose::kArtifact) {
    auto result = VerifyFile(file_, envelope, trusted_, expected);
    EXPECT_TRUE(result.ok()) << result.error().ToString();
    return result.ok() ? *result : VerifyResult{};
  }

  TempDir dir_;
  std::string file_ = dir_.File("deploy.sh");
  Ed25519PrivateKey key_ = Ed25519PrivateKey::Generate().value();
  TrustedKeys trusted_;
};

TEST_F(EnvelopeTest, SerializeParseRoundTrip) {
  Envelope envelope = Sign();
  std::string text = SerializeEnvelope(envelope).value();
  auto parsed = ParseEnvelope(text, "deploy.sh.sig.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->path, file_);
  EXPECT_EQ(parsed->size, 21u);
  EXPECT_EQ(parsed->sha256, Sha256Of(AsBytes(ReadText(file_))));
  EXPECT_EQ(parsed->key_id, KeyIdOf(key_.public_key()));
  EXPECT_EQ(parsed->time, "2026-11-18T11:06:40.000000Z");
  EXPECT_EQ(parsed->comment, "approved in CR-42");
  EXPECT_EQ(parsed->signature, envelope.signature);
  EXPECT_EQ(SerializeEnvelope(*parsed).value(), text);
  EXPECT_TRUE(Verify(*parsed).valid());
}

// The signed bytes are exactly what FORMAT.md §2.2 says, and exactly what
// the ledger checks for an entry of the purpose's kind.
TEST_F(EnvelopeTest, SignatureIsTheLedgerEntrySignature) {
  Envelope envelope = Sign(Purpose::kConfig);
  std::string payload = SignedPayload(envelope).value();
  EXPECT_EQ(payload, "{\"comment\":\"approved in CR-42\",\"digest_of\":\"file\",\"key_id\":\"" +
                         envelope.key_id + "\",\"path\":\"" + file_ +
                         "\",\"purpose\":\"config\",\"sha256\":\"" + HexEncode(envelope.sha256) +
                         "\",\"size\":21,\"time\":\"2026-11-18T11:06:40.000000Z\",\"version\":2}");
  EXPECT_EQ(SignedMessage(envelope).value(),
            DssePreAuthEncoding("application/vnd.attest.config.changed+json", AsBytes(payload)));

  ledger::EntryContent entry;
  entry.time = envelope.time;
  entry.kind = std::string(LedgerKindFor(envelope.purpose));
  entry.actor = "signer:" + envelope.key_id;
  entry.payload = payload;
  entry.signature = ledger::EntrySignature{envelope.public_key, envelope.signature};
  EXPECT_TRUE(ledger::VerifyEntrySignature(entry));
  entry.kind = "artifact.approved";  // not replayable as another kind
  EXPECT_FALSE(ledger::VerifyEntrySignature(entry));
}

TEST_F(EnvelopeTest, FileChanged) {
  Envelope envelope = Sign();
  WriteText(file_, "#!/bin/sh\necho hellO\n");
  VerifyResult result = Verify(envelope);
  EXPECT_EQ(result.reason, VerifyReason::kFileChanged);
  EXPECT_NE(result.detail.find("changed"), std::string::npos);
  WriteText(file_, "#!/bin/sh\necho hello\n\n");
  EXPECT_EQ(Verify(envelope).reason, VerifyReason::kFileChanged);
}

TEST_F(EnvelopeTest, UntrustedKey) {
  Envelope envelope = Sign();
  TrustedKeys others;
  others.Add(MakePublicKeyInfo(Ed25519PrivateKey::Generate().value().public_key()));
  auto result = VerifyFile(file_, envelope, others, Purpose::kArtifact);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->reason, VerifyReason::kUntrustedKey);
  EXPECT_NE(result->detail.find(envelope.key_id), std::string::npos);
}

// Trust is the full public key. Key ids are public, so anyone can write a
// trusted key's id into an envelope signed by their own key (a real 64-bit
// collision is out of a test's reach; the id must simply confer nothing).
TEST_F(EnvelopeTest, AKeyCarryingATrustedKeyIdIsNotTrusted) {
  Ed25519PrivateKey stranger = Ed25519PrivateKey::Generate().value();
  Envelope envelope = Sign();
  envelope.public_key = stranger.public_key();
  envelope.key_id = KeyIdOf(key_.public_key());
  envelope.signature = stranger.Sign(SignedMessage(envelope).value());
  VerifyResult result = Verify(envelope);
  EXPECT_EQ(result.reason, VerifyReason::kUntrustedKey);
  EXPECT_NE(result.detail.find(KeyIdOf(stranger.public_key())), std::string::npos) << result.detail;
  // With the trusted key's public key in place, the stranger's signature fails.
  envelope.public_key = key_.public_key();
  EXPECT_EQ(Verify(envelope).reason, VerifyReason::kBadSignature);
}

TEST_F(EnvelopeTest, BadSignature) {
  Envelope envelope = Sign();
  Envelope altered = envelope;
  altered.comment = "approved in CR-43";
  EXPECT_EQ(Verify(altered).reason, VerifyReason::kBadSignature);
  altered = envelope;
  altered.signature[10] ^= 0x01;
  EXPECT_EQ(Verify(altered).reason, VerifyReason::kBadSignature);
  // The purpose is bound twice: in the payload and in the DSSE type.
  altered = envelope;
  altered.purpose = Purpose::kPolicy;
  EXPECT_EQ(Verify(altered).reason, VerifyReason::kBadSignature);
  // An edited envelope file, as an attacker would do it.
  std::string text = SerializeEnvelope(envelope).value();
  std::size_t at = text.find("2026-11-18");
  text[at + 3] = '7';
  auto parsed = ParseEnvelope(text, "x.sig.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(Verify(*parsed).reason, VerifyReason::kBadSignature);
}

TEST_F(EnvelopeTest, WrongPurpose) {
  Envelope envelope = Sign(Purpose::kConfig);
  EXPECT_TRUE(Verify(envelope, Purpose::kConfig).valid());
  VerifyResult result = Verify(envelope, Purpose::kArtifact);
  EXPECT_EQ(result.reason, VerifyReason::kWrongPurpose);
  EXPECT_EQ(result.detail, "signed for purpose config, expected artifact");
  EXPECT_EQ(VerifyReasonName(result.reason), "wrong_purpose");
}

TEST_F(EnvelopeTest, ParseIsStrict) {
  Json good = ParseJsonStrict(SerializeEnvelope(Sign()).value()).value();
  struct Case {
    std::string_view field;
    std::function<void(Json&)> edit;
  };
  const Case cases[] = {
      {"unknown field \"extra\"", [](Json& d) { d["extra"] = 1; }},
      {"key_id", [](Json& d) { d["key_id"] = "0123456789abcdef"; }},
      {"time", [](Json& d) { d["time"] = "yesterday"; }},
      {"sha256", [](Json& d) { d["sha256"] = "ABCD"; }},
      {"purpose", [](Json& d) { d["purpose"] = "anything"; }},
      {"signature", [](Json& d) { d.erase("signature"); }},
      {"signature", [](Json& d) { d["signature"] = "AAAA"; }},
      {"unsupported version 3 (this build reads 2)", [](Json& d) { d["version"] = 3; }},
      {"digest_of", [](Json& d) { d.erase("digest_of"); }},
      {"digest_of", [](Json& d) { d["digest_of"] = "directory"; }},
      {"digest_of", [](Json& d) { d["digest_of"] = "manifest"; }},
      {"size", [](Json& d) { d["size"] = -1; }},
  };
  for (const Case& c : cases) {
    Json document = good;
    c.edit(document);
    auto parsed = ParseEnvelope(CanonicalJson(document).value(), "e.sig.json");
    ASSERT_FALSE(parsed.ok()) << c.field;
    EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
    EXPECT_NE(parsed.error().message.find(c.field), std::string::npos) << parsed.error().message;
    EXPECT_EQ(parsed.error().message.rfind("e.sig.json: ", 0), 0u) << parsed.error().message;
  }
  EXPECT_EQ(ParseEnvelope("{\"version\":1", "e").error().code, ErrorCode::kCorrupt);
}

// Version 1 did not sign what the digest is of; nothing was deployed, so
// such an envelope is refused with a message that says to re-sign.
TEST_F(EnvelopeTest, VersionOneEnvelopeIsRefusedWithAReSignMessage) {
  Json document = ParseJsonStrict(SerializeEnvelope(Sign()).value()).value();
  document["version"] = 1;
  document.erase("digest_of");
  auto parsed = ParseEnvelope(CanonicalJson(document).value(), "old.sig.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(parsed.error().message.rfind("old.sig.json: version: version 1 envelopes are no "
                                         "longer accepted",
                                         0),
            0u)
      << parsed.error().message;
  EXPECT_NE(parsed.error().message.find("re-sign with this signer"), std::string::npos);
}

TEST_F(EnvelopeTest, HashingIsStreamingAndRefusesNonRegularFiles) {
  std::string big(3 * kHashBufferBytes + 17, 'x');
  big[kHashBufferBytes] = 'y';
  WriteText(dir_.File("big"), big);
  auto digest = HashFileStreaming(dir_.File("big"));
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(digest->sha256, Sha256Of(AsBytes(big)));
  EXPECT_EQ(digest->size, big.size());

  EXPECT_EQ(HashFileStreaming(dir_.path()).error().code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(::mkfifo(dir_.File("fifo").c_str(), 0600), 0);
  EXPECT_EQ(HashFileStreaming(dir_.File("fifo")).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(HashFileStreaming(dir_.File("missing")).error().code, ErrorCode::kNotFound);
}

TEST_F(EnvelopeTest, EmptyFileAndNoComment) {
  WriteText(file_, "");
  auto envelope = SignFile(file_, key_, Purpose::kPolicy, std::nullopt, test::kSigningTime);
  ASSERT_TRUE(envelope.ok());
  std::string text = SerializeEnvelope(*envelope).value();
  EXPECT_EQ(text.find("comment"), std::string::npos);
  EXPECT_TRUE(Verify(ParseEnvelope(text, "e").value(), Purpose::kPolicy).valid());
}

}  // namespace
}  // namespace attest::signer
