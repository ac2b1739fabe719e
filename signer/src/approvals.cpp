#include "attest/signer/approvals.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "attest/clock.h"
#include "attest/json.h"
#include "attest/json_fields.h"
#include "attest/ledger/entry.h"
#include "attest/ledger/kinds.h"
#include "attest/signer/ledger_records.h"

namespace attest::signer {
namespace {

constexpr std::string_view kApprovedKind = ledger::kinds::kArtifactApproved;

// A signer's clock may run a little ahead of the ledger's.
constexpr std::chrono::minutes kMaxFutureSkew{5};

struct Statement {
  Sha256Digest sha256{};
  std::string key_id;
  TimePoint time;  // signed: when the signer made the statement
};

// The digest and key id an approval of a runtime binary names: envelope
// version 2, purpose artifact, the digest of a file (not of a directory
// manifest). nullopt otherwise.
std::optional<Statement> ParseApproval(const std::string& payload) {
  auto parsed = ParseJsonStrict(payload);
  if (!parsed.ok()) return std::nullopt;
  JsonFields fields("approval", ErrorCode::kCorrupt);
  Statement statement;
  auto version = fields.Unsigned(*parsed, "version", "version");
  auto purpose = fields.String(*parsed, "purpose", "purpose");
  auto digest_of = fields.String(*parsed, "digest_of", "digest_of");
  auto key_id = fields.String(*parsed, "key_id", "key_id");
  auto time = fields.String(*parsed, "time", "time");
  if (!version.ok() || *version != kEnvelopeVersion || !purpose.ok() ||
      *purpose != PurposeName(Purpose::kArtifact) || !digest_of.ok() ||
      *digest_of != DigestOfName(DigestOf::kFile) || !key_id.ok() || !time.ok() ||
      !fields.FixedHex(*parsed, "sha256", "sha256", statement.sha256).ok()) {
    return std::nullopt;
  }
  std::optional<TimePoint> signed_time = ParseRfc3339Utc(*time);
  if (!signed_time) return std::nullopt;
  statement.key_id = *key_id;
  statement.time = *signed_time;
  return statement;
}

std::optional<Statement> ParseRevocation(const std::string& payload) {
  auto revocation = ParseRevocationPayload(payload, "revocation");
  if (!revocation.ok()) return std::nullopt;
  std::optional<TimePoint> signed_time = ParseRfc3339Utc(revocation->time);
  if (!signed_time) return std::nullopt;
  return Statement{revocation->sha256, revocation->key_id, *signed_time};
}

// The statement of an approval or revocation entry that counts: signed by
// a trusted key (the full public key), the signature valid, the payload's
// key id that of the signing key (ids are display only, but one that names
// another key marks a forged or confused statement), and signed no later
// than the ledger recorded it (a post-dated statement could outlast
// revocations still to come).
std::optional<Statement> TrustedStatement(const ledger::EntryContent& content,
                                          const TrustedKeys& trusted) {
  if (!content.signature || !trusted.Contains(content.signature->public_key) ||
      !ledger::VerifyEntrySignature(content)) {
    return std::nullopt;
  }
  std::optional<Statement> statement = content.kind == kApprovedKind
                                           ? ParseApproval(content.payload)
                                           : ParseRevocation(content.payload);
  if (!statement || statement->key_id != KeyIdOf(content.signature->public_key)) {
    return std::nullopt;
  }
  std::optional<TimePoint> recorded = ParseRfc3339Utc(content.time);
  if (!recorded || statement->time > *recorded + kMaxFutureSkew) return std::nullopt;
  return statement;
}

}  // namespace

Result<ApprovedSet> ApprovedRuntimeDigests(ledger::Ledger& ledger, const TrustedKeys& trusted) {
  ApprovedSet approved;
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t size, ledger.Size());
  if (size == 0) return approved;
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<ledger::EntryCursor> cursor,
                          ledger.store().ScanEntries(1, size));
  // Decided by the signed times, not by the order of entries: anyone who
  // can append could copy an old approval after its revocation.
  std::map<Sha256Digest, TimePoint> latest_approval;
  std::map<Sha256Digest, TimePoint> latest_revocation;
  ledger::Entry entry;
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(bool more, cursor->Next(entry));
    if (!more) break;
    const std::string& kind = entry.content.kind;
    if (kind != kApprovedKind && kind != kRevokedKind) continue;
    std::optional<Statement> statement = TrustedStatement(entry.content, trusted);
    if (!statement) {
      ++approved.ignored_entries;
      continue;
    }
    auto& latest = kind == kApprovedKind ? latest_approval : latest_revocation;
    auto [it, inserted] = latest.emplace(statement->sha256, statement->time);
    if (!inserted && it->second < statement->time) it->second = statement->time;
  }
  for (const auto& [digest, approved_at] : latest_approval) {
    auto revoked = latest_revocation.find(digest);
    if (revoked == latest_revocation.end() || approved_at > revoked->second) {
      approved.digests.insert(digest);
    }
  }
  return approved;
}

Result<VerifyResult> VerifyPolicySignature(const std::string& policy_path, const Envelope& envelope,
                                           const TrustedKeys& admins) {
  return VerifyFile(policy_path, envelope, admins, Purpose::kPolicy);
}

}  // namespace attest::signer
