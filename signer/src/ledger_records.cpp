#include "attest/signer/ledger_records.h"

#include <utility>

#include "attest/encoding.h"
#include "attest/json.h"
#include "attest/json_fields.h"
#include "attest/ledger/entry.h"

namespace attest::signer {
namespace {

Result<std::uint64_t> AppendSigned(ledger::Ledger& ledger, std::string_view kind,
                                   std::string payload, const Ed25519PublicKey& public_key,
                                   const Ed25519Signature& signature, const std::string& actor) {
  ledger::NewEntry entry;
  entry.kind = std::string(kind);
  entry.actor = actor;
  entry.payload_json = std::move(payload);
  entry.signature = ledger::EntrySignature{public_key, signature};
  ATTEST_ASSIGN_OR_RETURN(ledger::AppendedEntry appended, ledger.Append(entry));
  return appended.seq;
}

}  // namespace

Result<std::string> RevocationPayload(const Revocation& revocation) {
  if (revocation.reason && revocation.reason->size() > kMaxReasonBytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "reason is longer than " + std::to_string(kMaxReasonBytes) + " bytes");
  }
  Json payload = {{"key_id", revocation.key_id},
                  {"sha256", HexEncode(revocation.sha256)},
                  {"time", revocation.time}};
  if (revocation.reason) payload["reason"] = *revocation.reason;
  return CanonicalJson(payload);
}

Result<Revocation> ParseRevocationPayload(std::string_view payload, std::string_view name) {
  auto parsed = ParseJsonStrict(payload);
  if (!parsed.ok()) {
    return MakeError(ErrorCode::kCorrupt,
                     std::string(name) + ": not a revocation (" + parsed.error().message + ")");
  }
  JsonFields fields(name, ErrorCode::kCorrupt);
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(*parsed, ""));
  ATTEST_RETURN_IF_ERROR(fields.OnlyMembers(*parsed, "", {"key_id", "reason", "sha256", "time"}));
  Revocation revocation;
  ATTEST_RETURN_IF_ERROR(fields.FixedHex(*parsed, "sha256", "sha256", revocation.sha256));
  ATTEST_ASSIGN_OR_RETURN(revocation.key_id, fields.String(*parsed, "key_id", "key_id"));
  ATTEST_ASSIGN_OR_RETURN(revocation.time, fields.String(*parsed, "time", "time"));
  if (!IsRfc3339Utc(revocation.time)) return fields.Invalid("time", "must be RFC 3339 UTC");
  if (FindMember(*parsed, "reason") != nullptr) {
    ATTEST_ASSIGN_OR_RETURN(revocation.reason, fields.String(*parsed, "reason", "reason"));
  }
  return revocation;
}

Result<std::uint64_t> SubmitEnvelope(ledger::Ledger& ledger, const Envelope& envelope,
                                     const std::string& actor) {
  if (envelope.key_id != KeyIdOf(envelope.public_key)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "envelope key_id " + envelope.key_id + " is not the key id of its public key");
  }
  ATTEST_ASSIGN_OR_RETURN(std::string payload, SignedPayload(envelope));
  return AppendSigned(ledger, LedgerKindFor(envelope.purpose), std::move(payload),
                      envelope.public_key, envelope.signature, actor)
      .WithContext("submit " + envelope.path);
}

Result<std::uint64_t> RevokeArtifact(ledger::Ledger& ledger, const Sha256Digest& sha256,
                                     const Ed25519PrivateKey& key,
                                     const std::optional<std::string>& reason, TimePoint time,
                                     const std::string& actor) {
  Revocation revocation;
  revocation.sha256 = sha256;
  revocation.reason = reason;
  revocation.key_id = KeyIdOf(key.public_key());
  revocation.time = FormatRfc3339Utc(time);
  ATTEST_ASSIGN_OR_RETURN(std::string payload, RevocationPayload(revocation));
  Ed25519Signature signature = key.Sign(ledger::SignedMessage(kRevokedKind, payload));
  return AppendSigned(ledger, kRevokedKind, std::move(payload), key.public_key(), signature, actor)
      .WithContext("revoke " + HexEncode(sha256));
}

}  // namespace attest::signer
