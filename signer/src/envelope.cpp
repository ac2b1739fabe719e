#include "attest/signer/envelope.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "attest/clock.h"
#include "attest/encoding.h"
#include "attest/json.h"
#include "attest/json_fields.h"
#include "attest/ledger/entry.h"
#include "attest/ledger/kinds.h"

#include "envelope_parse.h"

namespace attest::signer {
namespace {

// Sizes must survive a trip through an IEEE double (RFC 8785 numbers).
constexpr std::uint64_t kMaxExactSize = std::uint64_t{1} << 53;

struct PurposeRow {
  Purpose purpose;
  std::string_view name;
  std::string_view kind;
};
constexpr std::array<PurposeRow, 3> kPurposes = {{
    {Purpose::kArtifact, "artifact", ledger::kinds::kArtifactApproved},
    {Purpose::kConfig, "config", ledger::kinds::kConfigChanged},
    {Purpose::kPolicy, "policy", ledger::kinds::kPolicySigned},
}};

const PurposeRow& RowOf(Purpose purpose) {
  return *std::find_if(kPurposes.begin(), kPurposes.end(),
                       [purpose](const PurposeRow& row) { return row.purpose == purpose; });
}

Json PayloadJson(const Envelope& envelope) {
  Json payload = {{"version", kEnvelopeVersion},
                  {"path", envelope.path},
                  {"digest_of", std::string(DigestOfName(DigestOfEnvelope(envelope)))},
                  {"sha256", HexEncode(envelope.sha256)},
                  {"size", envelope.size},
                  {"purpose", std::string(PurposeName(envelope.purpose))},
                  {"key_id", envelope.key_id},
                  {"time", envelope.time}};
  if (envelope.comment) payload["comment"] = *envelope.comment;
  return payload;
}

}  // namespace

std::string_view PurposeName(Purpose purpose) { return RowOf(purpose).name; }
std::string_view LedgerKindFor(Purpose purpose) { return RowOf(purpose).kind; }

std::string_view DigestOfName(DigestOf digest_of) {
  return digest_of == DigestOf::kManifest ? "manifest" : "file";
}

Result<Purpose> ParsePurpose(std::string_view name) {
  for (const PurposeRow& row : kPurposes) {
    if (row.name == name) return row.purpose;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown purpose \"" + std::string(name) + "\" (artifact, config or policy)");
}

Result<std::string> SignedPayload(const Envelope& envelope) {
  if (envelope.size > kMaxExactSize) {
    return MakeError(ErrorCode::kInvalidArgument, envelope.path + ": larger than 2^53 bytes");
  }
  if (envelope.comment && envelope.comment->size() > kMaxCommentBytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "comment is longer than " + std::to_string(kMaxCommentBytes) + " bytes");
  }
  return CanonicalJson(PayloadJson(envelope));
}

Result<Bytes> SignedMessage(const Envelope& envelope) {
  ATTEST_ASSIGN_OR_RETURN(std::string payload, SignedPayload(envelope));
  // The message a ledger entry of this kind is signed over, so the signature
  // verifies again when the envelope is recorded (ledger/entry.h).
  return ledger::SignedMessage(LedgerKindFor(envelope.purpose), payload);
}

Status SignEnvelope(Envelope& envelope, const Ed25519PrivateKey& key) {
  envelope.public_key = key.public_key();
  envelope.key_id = KeyIdOf(key.public_key());
  ATTEST_ASSIGN_OR_RETURN(Bytes message, SignedMessage(envelope));
  envelope.signature = key.Sign(message);
  return OkStatus();
}

Result<Envelope> SignDigest(const std::string& path, const FileDigest& digest,
                            const Ed25519PrivateKey& key, Purpose purpose,
                            std::optional<std::string> comment, TimePoint time,
                            std::optional<Manifest> manifest) {
  Envelope envelope;
  envelope.path = path;
  envelope.sha256 = digest.sha256;
  envelope.size = digest.size;
  envelope.purpose = purpose;
  envelope.time = FormatRfc3339Utc(time);
  envelope.comment = std::move(comment);
  envelope.manifest = std::move(manifest);
  ATTEST_RETURN_IF_ERROR(SignEnvelope(envelope, key).WithContext("sign " + path));
  return envelope;
}

Result<Envelope> SignFile(const std::string& path, const Ed25519PrivateKey& key, Purpose purpose,
                          std::optional<std::string> comment, TimePoint time) {
  ATTEST_ASSIGN_OR_RETURN(FileDigest digest, HashFileStreaming(path));
  return SignDigest(path, digest, key, purpose, std::move(comment), time);
}

Result<std::string> SerializeEnvelope(const Envelope& envelope) {
  Json document = PayloadJson(envelope);
  document["public_key"] = Base64Encode(envelope.public_key);
  document["signature"] = Base64Encode(envelope.signature);
  if (envelope.manifest) document["manifest"] = ManifestToJson(*envelope.manifest);
  ATTEST_ASSIGN_OR_RETURN(std::string text, CanonicalJson(document));
  return text + "\n";
}

Result<Envelope> ParseEnvelope(std::string_view text, std::string_view name) {
  auto parsed = ParseJsonStrict(text);
  if (!parsed.ok()) {
    return MakeError(ErrorCode::kCorrupt, std::string(name) + ": not a signature envelope (" +
                                              parsed.error().message + ")");
  }
  JsonFields fields(name, ErrorCode::kCorrupt);
  Envelope envelope;
  ATTEST_RETURN_IF_ERROR(internal::ParseEnvelopeFields(fields, *parsed, envelope));
  if (!IsRfc3339Utc(envelope.time)) {
    return fields.Invalid("time", "must be RFC 3339 UTC (\"2026-11-22T09:22:00.123456Z\")");
  }
  if (envelope.size > kMaxExactSize) return fields.Invalid("size", "must be at most 2^53");
  if (envelope.manifest) {
    ATTEST_ASSIGN_OR_RETURN(std::string canonical,
                            CanonicalJson(ManifestToJson(*envelope.manifest)));
    if (Sha256Of(AsBytes(canonical)) != envelope.sha256 || canonical.size() != envelope.size) {
      return fields.Invalid("manifest",
                            "does not match sha256 and size (the envelope was altered)");
    }
  }
  return envelope;
}

}  // namespace attest::signer
