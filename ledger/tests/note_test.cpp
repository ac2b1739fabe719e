#include "attest/ledger/note.h"

#include <optional>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/ledger/checkpoint.h"

namespace attest::ledger {
namespace {

// The example key and note from Go's golang.org/x/mod/sumdb/note
// documentation: the reference implementation of the format.
constexpr const char* kGoSignerKey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr const char* kGoVerifierKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr const char* kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr const char* kGoNote =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

NoteSigner GoSigner() {
  std::string text = kGoSignerKey;
  auto secret = SecretBytes::Allocate(text.size());
  std::copy(text.begin(), text.end(), secret->data());
  return ParseSignerKey(*secret).value();
}

// The error code of a failure; nothing when the call succeeded.
template <typename T>
std::optional<ErrorCode> CodeOf(const Result<T>& result) {
  if (result.ok()) return std::nullopt;
  return result.error().code;
}

TEST(NoteTest, MatchesGoReferenceByteForByte) {
  NoteSigner signer = GoSigner();
  EXPECT_EQ(signer.key_id, 0xc74f20a3u);
  auto verifier = MakeNoteVerifier(signer.name, signer.key.public_key());
  ASSERT_TRUE(verifier.ok());
  EXPECT_EQ(FormatVerifierKey(*verifier), kGoVerifierKey);
  EXPECT_EQ(SignNote(kGoText, signer).value(), kGoNote);
  EXPECT_EQ(VerifyNote(kGoNote, ParseVerifierKey(kGoVerifierKey).value()).value(), kGoText);
  auto formatted = FormatSignerKey(signer.name, signer.key);
  ASSERT_TRUE(formatted.ok());
  EXPECT_EQ(AsText(formatted->view()), std::string(kGoSignerKey) + "\n");
}

TEST(NoteTest, RejectsTamperingAndForeignKeys) {
  NoteVerifier verifier = ParseVerifierKey(kGoVerifierKey).value();
  std::string changed = kGoNote;
  changed[3] = 'X';
  auto tampered = VerifyNote(changed, verifier);
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().code, ErrorCode::kVerificationFailed);
  EXPECT_NE(tampered.error().message.find("does not verify"), std::string::npos);

  auto other_key = Ed25519PrivateKey::Generate();
  auto other = MakeNoteVerifier("PeterNeumann", other_key->public_key()).value();
  auto foreign = VerifyNote(kGoNote, other);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("not signed by PeterNeumann+"), std::string::npos);
  EXPECT_NE(foreign.error().message.find("signed by PeterNeumann+c74f20a3"), std::string::npos);
}

TEST(NoteTest, IgnoresSignaturesByUnknownKeys) {
  NoteSigner signer = GoSigner();
  auto witness_key = Ed25519PrivateKey::Generate();
  NoteSigner witness{"witness.example", NoteKeyId("witness.example", witness_key->public_key()),
                     std::move(witness_key).value()};
  std::string witnessed = SignNote(kGoText, witness).value();
  // Append the Go signature line to the witness-signed note.
  std::string go_line = std::string(kGoNote).substr(std::string(kGoText).size() + 1);
  std::string both = witnessed + go_line;
  EXPECT_EQ(VerifyNote(both, ParseVerifierKey(kGoVerifierKey).value()).value(), kGoText);
}

TEST(NoteTest, RejectsMalformedNotes) {
  NoteVerifier verifier = ParseVerifierKey(kGoVerifierKey).value();
  const std::string go_note = kGoNote;
  for (const std::string& bad : std::vector<std::string>{
           std::string(kGoText),                                        // no signature block
           go_note.substr(0, go_note.size() - 1),                       // no final newline
           "text\n\n-- PeterNeumann AAAA\n",                            // not an em dash
           "text\n\n\xe2\x80\x94 PeterNeumann !!!!\n",                  // not base64
           "text\n\n\xe2\x80\x94 Peter+Neumann AAAAAAAA\n",             // '+' in the name
           "te\x01xt\n" + go_note.substr(std::string(kGoText).size()),  // control character
           "\n\n\xe2\x80\x94 PeterNeumann AAAAAAAA\n",                  // empty text
       }) {
    auto result = VerifyNote(bad, verifier);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error().code, ErrorCode::kCorrupt) << bad;
  }
  std::string many = kGoText;
  many += "\n";
  for (int i = 0; i < 101; ++i) many += "\xe2\x80\x94 k" + std::to_string(i) + " AAAAAAAA\n";
  EXPECT_NE(VerifyNote(many, verifier).error().message.find("more than 100"), std::string::npos);
}

TEST(NoteKeyTest, RejectsMangledKeys) {
  std::string key = kGoVerifierKey;
  EXPECT_EQ(CodeOf(ParseVerifierKey(key.substr(0, key.size() - 4))), ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(ParseVerifierKey(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")),
            ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(ParseVerifierKey(
                "PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")),
            ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(ParseVerifierKey("PeterNeumann+c74f20a3")), ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(ParseVerifierKey(
                "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")),
            ErrorCode::kCorrupt);
  std::string secret = kGoSignerKey;
  secret.back() = 'A';
  auto bytes = SecretBytes::Allocate(secret.size());
  std::copy(secret.begin(), secret.end(), bytes->data());
  EXPECT_EQ(CodeOf(ParseSignerKey(*bytes)), ErrorCode::kCorrupt);
}

// A caller's bad name or note text is an invalid argument, not a malformed
// document.
TEST(NoteKeyTest, BadArgumentsAreInvalidArgument) {
  EXPECT_EQ(CodeOf(CheckNoteKeyName("Peter Neumann")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(MakeNoteVerifier("", Ed25519PublicKey{})), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(SignNote("no final newline", GoSigner())), ErrorCode::kInvalidArgument);
}

TEST(CheckpointTest, FormatsAndParses) {
  Checkpoint checkpoint{"example.com/log", 20852163, {}};
  checkpoint.root_hash.fill(0x42);
  std::string text = FormatCheckpointText(checkpoint);
  EXPECT_EQ(text, "example.com/log\n20852163\nQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n");
  auto parsed = ParseCheckpointText(text + "extension line\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->tree_size, 20852163u);
  EXPECT_EQ(parsed->root_hash, checkpoint.root_hash);
  EXPECT_EQ(CodeOf(ParseCheckpointText("o\n012\nQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n")),
            ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(ParseCheckpointText("o\n12\nQkJC\n")), ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(ParseCheckpointText("o\n12\n")), ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(ParseCheckpointText("o\n-1\nQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n")),
            ErrorCode::kCorrupt);
  EXPECT_EQ(
      CodeOf(ParseCheckpointText("o\n1\nQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n\nx\n")),
      ErrorCode::kCorrupt);
}

TEST(CheckpointTest, OriginMustBeTheKeyName) {
  auto key = Ed25519PrivateKey::Generate();
  NoteSigner signer{"ledger.a", NoteKeyId("ledger.a", key->public_key()), std::move(key).value()};
  NoteVerifier verifier = MakeNoteVerifier("ledger.a", signer.key.public_key()).value();
  std::string foreign_origin = SignNote(FormatCheckpointText({"ledger.b", 1, {}}), signer).value();
  auto opened = OpenCheckpoint(foreign_origin, verifier);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("origin \"ledger.b\""), std::string::npos);
  std::string own = SignNote(FormatCheckpointText({"ledger.a", 1, {}}), signer).value();
  EXPECT_TRUE(OpenCheckpoint(own, verifier).ok());
}

}  // namespace
}  // namespace attest::ledger
