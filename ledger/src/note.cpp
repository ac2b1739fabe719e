#include "attest/ledger/note.h"

#include <algorithm>
#include <cstdio>

#include <sodium.h>

#include "attest/encoding.h"
#include "attest/sha256.h"
#include "attest/utf8.h"

namespace attest::ledger {
namespace {

constexpr std::uint8_t kAlgorithmEd25519 = 0x01;
constexpr std::string_view kSignaturePrefix = "\xe2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kPrivateKeyPrefix = "PRIVATE+KEY+";

// A malformed note or key file is kCorrupt: a document read, not an argument.
Error MalformedNote(std::string message) {
  return MakeError(ErrorCode::kCorrupt, std::move(message));
}

// A caller's bad name or text (CheckNoteKeyName, SignNote).
Error BadArgument(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// A check of a caller's argument, applied to part of a document.
template <typename T>
Result<T> InDocument(Result<T> result) {
  if (result.ok() || result.error().code != ErrorCode::kInvalidArgument) return result;
  return MalformedNote(result.error().message);
}

std::string Hex32(std::uint32_t value) {
  std::array<char, 9> buffer{};
  (void)std::snprintf(buffer.data(), buffer.size(), "%08x", value);
  return buffer.data();
}

Result<std::uint32_t> ParseHex32(std::string_view text) {
  auto bytes = HexDecode(text);
  if (text.size() != 8 || !bytes.ok()) return MalformedNote("key id must be 8 hex digits");
  return (std::uint32_t{(*bytes)[0]} << 24) | (std::uint32_t{(*bytes)[1]} << 16) |
         (std::uint32_t{(*bytes)[2]} << 8) | std::uint32_t{(*bytes)[3]};
}

// Splits "a+b+rest" into {a, b, rest}: names and ids never hold '+', base64 may.
std::vector<std::string_view> SplitPlus(std::string_view text, std::size_t fields) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < fields) {
    auto plus = text.find('+');
    if (plus == std::string_view::npos) break;
    parts.push_back(text.substr(0, plus));
    text.remove_prefix(plus + 1);
  }
  parts.push_back(text);
  return parts;
}

Status CheckNoteText(std::string_view text) {
  if (text.empty() || text.back() != '\n') return BadArgument("note text must end with a newline");
  if (text.front() == '\n') return BadArgument("note text starts with an empty line");
  if (text.find("\n\n") != std::string_view::npos) return BadArgument("note text has a blank line");
  if (auto bad = FindInvalidUtf8(text)) {
    return BadArgument("note is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') {
      return BadArgument("note holds a control character");
    }
  }
  return OkStatus();
}

Result<NoteSignature> ParseSignatureLine(std::string_view line) {
  if (!line.starts_with(kSignaturePrefix)) {
    return MalformedNote("signature line does not start with an em dash and a space");
  }
  line.remove_prefix(kSignaturePrefix.size());
  auto space = line.find(' ');
  if (space == std::string_view::npos) return MalformedNote("signature line has no signature");
  NoteSignature signature;
  signature.name = std::string(line.substr(0, space));
  ATTEST_RETURN_IF_ERROR(InDocument(CheckNoteKeyName(signature.name)));
  auto decoded = Base64Decode(line.substr(space + 1));
  if (!decoded.ok() || decoded->size() < 5) {
    return MalformedNote("signature by " + signature.name +
                         " is not base64 of a key id and signature");
  }
  signature.key_id = (std::uint32_t{(*decoded)[0]} << 24) | (std::uint32_t{(*decoded)[1]} << 16) |
                     (std::uint32_t{(*decoded)[2]} << 8) | std::uint32_t{(*decoded)[3]};
  signature.signature.assign(decoded->begin() + 4, decoded->end());
  return signature;
}

}  // namespace

std::string DescribeKey(std::string_view name, std::uint32_t key_id) {
  return std::string(name) + "+" + Hex32(key_id);
}

Status CheckNoteKeyName(std::string_view name) {
  if (name.empty()) return BadArgument("key name is empty");
  if (auto bad = FindInvalidUtf8(name)) return BadArgument("key name is not valid UTF-8");
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '+') {
      return BadArgument("key name \"" + std::string(name) +
                         "\" holds a space, a control character or '+'");
    }
  }
  return OkStatus();
}

std::uint32_t NoteKeyId(std::string_view name, const Ed25519PublicKey& key) {
  Sha256Digest digest = Sha256()
                            .Update(AsBytes(name))
                            .Update(std::uint8_t{'\n'})
                            .Update(kAlgorithmEd25519)
                            .Update(ByteView(key))
                            .Finish();
  return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
         (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
}

Result<NoteVerifier> MakeNoteVerifier(std::string_view name, const Ed25519PublicKey& key) {
  ATTEST_RETURN_IF_ERROR(CheckNoteKeyName(name));
  return NoteVerifier{std::string(name), NoteKeyId(name, key), key};
}

std::string FormatVerifierKey(const NoteVerifier& verifier) {
  Bytes encoded(1 + verifier.public_key.size());
  encoded[0] = kAlgorithmEd25519;
  std::copy(verifier.public_key.begin(), verifier.public_key.end(), encoded.begin() + 1);
  return DescribeKey(verifier.name, verifier.key_id) + "+" + Base64Encode(encoded);
}

Result<NoteVerifier> ParseVerifierKey(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  auto parts = SplitPlus(text, 3);
  if (parts.size() != 3) return MalformedNote("verifier key is not <name>+<key id>+<key>");
  ATTEST_RETURN_IF_ERROR(InDocument(CheckNoteKeyName(parts[0])));
  ATTEST_ASSIGN_OR_RETURN(std::uint32_t key_id, ParseHex32(parts[1]));
  auto key_bytes = Base64Decode(parts[2]);
  if (!key_bytes.ok() || key_bytes->size() != 33 || (*key_bytes)[0] != kAlgorithmEd25519) {
    return MalformedNote("verifier key is not an Ed25519 key (base64 of 0x01 and 32 bytes)");
  }
  ATTEST_ASSIGN_OR_RETURN(Ed25519PublicKey key,
                          InDocument(Ed25519PublicKeyFromBytes(ByteView(*key_bytes).subspan(1))));
  if (NoteKeyId(parts[0], key) != key_id) {
    return MalformedNote("verifier key id " + std::string(parts[1]) +
                         " does not match its name and key");
  }
  return NoteVerifier{std::string(parts[0]), key_id, key};
}

Result<SecretBytes> FormatSignerKey(std::string_view name, const Ed25519PrivateKey& key) {
  ATTEST_RETURN_IF_ERROR(CheckNoteKeyName(name));
  std::string header =
      std::string(kPrivateKeyPrefix) + DescribeKey(name, NoteKeyId(name, key.public_key())) + "+";
  ATTEST_ASSIGN_OR_RETURN(SecretBytes raw, SecretBytes::Allocate(1 + kEd25519SeedSize));
  raw.data()[0] = kAlgorithmEd25519;
  std::copy(key.seed().begin(), key.seed().end(), raw.data() + 1);
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  const std::size_t encoded_size = sodium_base64_ENCODED_LEN(raw.size(), kVariant);  // with NUL
  ATTEST_ASSIGN_OR_RETURN(SecretBytes text, SecretBytes::Allocate(header.size() + encoded_size));
  std::copy(header.begin(), header.end(), text.data());
  sodium_bin2base64(reinterpret_cast<char*>(text.data() + header.size()), encoded_size, raw.data(),
                    raw.size(), kVariant);
  text.data()[text.size() - 1] = '\n';  // replaces the NUL
  return text;
}

Result<NoteSigner> ParseSignerKey(const SecretBytes& secret) {
  std::string_view text(reinterpret_cast<const char*>(secret.data()), secret.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (!text.starts_with(kPrivateKeyPrefix)) {
    return MalformedNote("not a signer key (expected PRIVATE+KEY+<name>+<key id>+<key>)");
  }
  text.remove_prefix(kPrivateKeyPrefix.size());
  auto parts = SplitPlus(text, 3);
  if (parts.size() != 3)
    return MalformedNote("signer key is not PRIVATE+KEY+<name>+<key id>+<key>");
  ATTEST_RETURN_IF_ERROR(InDocument(CheckNoteKeyName(parts[0])));
  ATTEST_ASSIGN_OR_RETURN(std::uint32_t key_id, ParseHex32(parts[1]));
  ATTEST_ASSIGN_OR_RETURN(SecretBytes raw, SecretBytes::Allocate(parts[2].size()));
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(raw.data(), raw.size(), parts[2].data(), parts[2].size(), nullptr, &length,
                        &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != parts[2].data() + parts[2].size() || length != 1 + kEd25519SeedSize ||
      raw.data()[0] != kAlgorithmEd25519) {
    return MalformedNote("signer key is not an Ed25519 key (base64 of 0x01 and a 32-byte seed)");
  }
  ATTEST_ASSIGN_OR_RETURN(
      Ed25519PrivateKey key,
      InDocument(Ed25519PrivateKey::FromSeed(ByteView(raw.data() + 1, kEd25519SeedSize))));
  if (NoteKeyId(parts[0], key.public_key()) != key_id) {
    return MalformedNote("signer key id " + std::string(parts[1]) +
                         " does not match its name and key");
  }
  return NoteSigner{std::string(parts[0]), key_id, std::move(key)};
}

Result<std::string> SignNote(std::string_view text, const NoteSigner& signer) {
  ATTEST_RETURN_IF_ERROR(CheckNoteText(text));
  Ed25519Signature signature = signer.key.Sign(AsBytes(text));
  Bytes blob = {static_cast<std::uint8_t>(signer.key_id >> 24),
                static_cast<std::uint8_t>(signer.key_id >> 16),
                static_cast<std::uint8_t>(signer.key_id >> 8),
                static_cast<std::uint8_t>(signer.key_id)};
  blob.insert(blob.end(), signature.begin(), signature.end());
  std::string note(text);
  note += "\n";
  note += kSignaturePrefix;
  note += signer.name + " " + Base64Encode(blob) + "\n";
  return note;
}

Result<ParsedNote> ParseNote(std::string_view note) {
  if (note.size() > kMaxNoteBytes) return MalformedNote("note is larger than 1 MiB");
  if (note.empty() || note.back() != '\n') return MalformedNote("note does not end with a newline");
  auto blank = note.rfind("\n\n");
  if (blank == std::string_view::npos) return MalformedNote("note has no signature block");
  ParsedNote parsed;
  parsed.text = std::string(note.substr(0, blank + 1));
  ATTEST_RETURN_IF_ERROR(InDocument(CheckNoteText(parsed.text)));
  std::string_view block = note.substr(blank + 2);
  if (auto bad = FindInvalidUtf8(block))
    return MalformedNote("note signatures are not valid UTF-8");
  while (!block.empty()) {
    auto newline = block.find('\n');  // present: the note ends with '\n'
    if (parsed.signatures.size() == kMaxNoteSignatures) {
      return MalformedNote("note has more than " + std::to_string(kMaxNoteSignatures) +
                           " signatures");
    }
    ATTEST_ASSIGN_OR_RETURN(NoteSignature signature, ParseSignatureLine(block.substr(0, newline)));
    parsed.signatures.push_back(std::move(signature));
    block.remove_prefix(newline + 1);
  }
  if (parsed.signatures.empty()) return MalformedNote("note has no signatures");
  return parsed;
}

Result<std::string> VerifyNote(std::string_view note, const NoteVerifier& verifier) {
  ATTEST_ASSIGN_OR_RETURN(ParsedNote parsed, ParseNote(note));
  std::string signers;
  for (const NoteSignature& signature : parsed.signatures) {
    if (signature.name != verifier.name || signature.key_id != verifier.key_id) {
      signers += (signers.empty() ? "" : ", ") + DescribeKey(signature.name, signature.key_id);
      continue;
    }
    if (!Ed25519Verify(verifier.public_key, AsBytes(parsed.text), signature.signature)) {
      return MakeError(ErrorCode::kVerificationFailed,
                       "the signature by " + DescribeKey(verifier.name, verifier.key_id) +
                           " does not verify: the note was changed or the signature forged");
    }
    return parsed.text;
  }
  return MakeError(ErrorCode::kVerificationFailed, "not signed by " +
                                                       DescribeKey(verifier.name, verifier.key_id) +
                                                       " (signed by " + signers + ")");
}

}  // namespace attest::ledger
