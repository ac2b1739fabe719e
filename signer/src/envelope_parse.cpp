// The member-by-member reading of an envelope document (FORMAT.md §2.1).
#include "envelope_parse.h"

#include <algorithm>

#include "attest/json_fields.h"
#include "attest/signer/envelope.h"

namespace attest::signer::internal {
namespace {

template <std::size_t N>
Status FixedBase64(const JsonFields& fields, const Json& object, std::string_view key,
                   std::array<std::uint8_t, N>& out) {
  ATTEST_ASSIGN_OR_RETURN(Bytes bytes, fields.Base64(object, key, key));
  if (bytes.size() != N) {
    return fields.Invalid(key, "must be base64 of " + std::to_string(N) + " bytes, got " +
                                   std::to_string(bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return OkStatus();
}

Status CheckVersion(const JsonFields& fields, const Json& document) {
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version, fields.Unsigned(document, "version", "version"));
  if (version == 1) {
    return fields.Invalid("version",
                          "version 1 envelopes are no longer accepted (they do not sign whether "
                          "the digest is of a file or of a directory manifest); re-sign with this "
                          "signer: signer sign FILE, or signer sign-dir DIR");
  }
  if (version != kEnvelopeVersion) {
    return fields.Invalid("version", "unsupported version " + std::to_string(version) +
                                         " (this build reads " + std::to_string(kEnvelopeVersion) +
                                         ")");
  }
  return OkStatus();
}

// The signed digest_of must say what the envelope carries: "manifest" with
// a manifest, "file" without one.
Status CheckDigestOf(const JsonFields& fields, const Json& document, bool has_manifest) {
  ATTEST_ASSIGN_OR_RETURN(std::string digest_of, fields.String(document, "digest_of", "digest_of"));
  if (digest_of != DigestOfName(DigestOf::kFile) &&
      digest_of != DigestOfName(DigestOf::kManifest)) {
    return fields.Invalid("digest_of", "must be \"file\" or \"manifest\"");
  }
  if (has_manifest && digest_of != DigestOfName(DigestOf::kManifest)) {
    return fields.Invalid("digest_of",
                          "is \"file\" but the envelope carries a manifest (the envelope was "
                          "altered)");
  }
  if (!has_manifest && digest_of != DigestOfName(DigestOf::kFile)) {
    return fields.Invalid("digest_of",
                          "is \"manifest\" but the envelope carries no manifest (it was removed; "
                          "a directory envelope verifies only with its manifest)");
  }
  return OkStatus();
}

}  // namespace

Status ParseEnvelopeFields(const JsonFields& fields, const Json& document, Envelope& envelope) {
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(document, ""));
  // The version first: an older or newer envelope is named as such, not by
  // the members it lacks or adds.
  ATTEST_RETURN_IF_ERROR(CheckVersion(fields, document));
  ATTEST_RETURN_IF_ERROR(
      fields.OnlyMembers(document, "",
                         {"version", "path", "digest_of", "sha256", "size", "purpose", "key_id",
                          "public_key", "time", "comment", "signature", "manifest"}));
  ATTEST_RETURN_IF_ERROR(
      CheckDigestOf(fields, document, FindMember(document, "manifest") != nullptr));
  ATTEST_ASSIGN_OR_RETURN(envelope.path, fields.String(document, "path", "path"));
  ATTEST_RETURN_IF_ERROR(fields.FixedHex(document, "sha256", "sha256", envelope.sha256));
  ATTEST_ASSIGN_OR_RETURN(envelope.size, fields.Unsigned(document, "size", "size"));
  ATTEST_ASSIGN_OR_RETURN(std::string purpose, fields.String(document, "purpose", "purpose"));
  auto parsed_purpose = ParsePurpose(purpose);
  if (!parsed_purpose.ok()) return fields.Invalid("purpose", parsed_purpose.error().message);
  envelope.purpose = *parsed_purpose;
  ATTEST_RETURN_IF_ERROR(FixedBase64(fields, document, "public_key", envelope.public_key));
  ATTEST_ASSIGN_OR_RETURN(envelope.key_id, fields.String(document, "key_id", "key_id"));
  if (envelope.key_id != KeyIdOf(envelope.public_key)) {
    return fields.Invalid("key_id", "is not the key id of public_key");
  }
  ATTEST_ASSIGN_OR_RETURN(envelope.time, fields.String(document, "time", "time"));
  if (FindMember(document, "comment") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(envelope.comment, fields.String(document, "comment", "comment"));
    if (envelope.comment->size() > kMaxCommentBytes) {
      return fields.Invalid("comment",
                            "longer than " + std::to_string(kMaxCommentBytes) + " bytes");
    }
  }
  ATTEST_RETURN_IF_ERROR(FixedBase64(fields, document, "signature", envelope.signature));
  if (const Json* manifest = FindMember(document, "manifest"); manifest != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(envelope.manifest, ManifestFromJson(*manifest, fields.name()));
  }
  return OkStatus();
}

}  // namespace attest::signer::internal
