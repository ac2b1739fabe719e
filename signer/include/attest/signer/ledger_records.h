// Recording signer statements in the audit ledger (FORMAT.md §2.2, §4):
// a signed envelope becomes an entry of kind LedgerKindFor(purpose), a
// revocation an `artifact.revoked` entry. Both carry the Ed25519 signature
// over DSSE PAE(kind, canonical payload), so `ledger verify` re-checks them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/clock.h"
#include "attest/ed25519.h"
#include "attest/error.h"
#include "attest/ledger/kinds.h"
#include "attest/ledger/ledger.h"
#include "attest/sha256.h"
#include "attest/signer/envelope.h"

namespace attest::signer {

inline constexpr std::string_view kRevokedKind = ledger::kinds::kArtifactRevoked;
inline constexpr std::size_t kMaxReasonBytes = kMaxCommentBytes;

// A withdrawn approval (FORMAT.md §4), as signed.
struct Revocation {
  Sha256Digest sha256{};
  std::optional<std::string> reason;
  std::string key_id;
  std::string time;  // RFC 3339 UTC
};

// The canonical JSON of {"key_id", "reason"?, "sha256", "time"}.
Result<std::string> RevocationPayload(const Revocation& revocation);
// Strict: unknown members, a bad digest or time are kCorrupt errors.
Result<Revocation> ParseRevocationPayload(std::string_view payload, std::string_view name);

// Appends `envelope` as an entry of kind LedgerKindFor(envelope.purpose)
// whose payload is SignedPayload(envelope) and whose signature is the
// envelope's. The ledger refuses a bad signature (kVerificationFailed).
// Returns the new entry's seq.
Result<std::uint64_t> SubmitEnvelope(ledger::Ledger& ledger, const Envelope& envelope,
                                     const std::string& actor);

// Signs a revocation of `sha256` with `key` and appends it as an
// `artifact.revoked` entry. Returns the new entry's seq.
Result<std::uint64_t> RevokeArtifact(ledger::Ledger& ledger, const Sha256Digest& sha256,
                                     const Ed25519PrivateKey& key,
                                     const std::optional<std::string>& reason, TimePoint time,
                                     const std::string& actor);

// Where the CLI records signed statements. Today the local ledger
// (LedgerSink); the verifier's REST API implements the same two calls when
// the service exists (it appends to the verifier's ledger), and `signer
// submit` / `signer revoke` do not change.
class StatementSink {
 public:
  virtual ~StatementSink() = default;
  virtual Result<std::uint64_t> Submit(const Envelope& envelope, const std::string& actor) = 0;
  virtual Result<std::uint64_t> Revoke(const Sha256Digest& sha256, const Ed25519PrivateKey& key,
                                       const std::optional<std::string>& reason, TimePoint time,
                                       const std::string& actor) = 0;
};

// SubmitEnvelope and RevokeArtifact on one local ledger.
class LedgerSink final : public StatementSink {
 public:
  explicit LedgerSink(ledger::Ledger& ledger) : ledger_(ledger) {}
  Result<std::uint64_t> Submit(const Envelope& envelope, const std::string& actor) override {
    return SubmitEnvelope(ledger_, envelope, actor);
  }
  Result<std::uint64_t> Revoke(const Sha256Digest& sha256, const Ed25519PrivateKey& key,
                               const std::optional<std::string>& reason, TimePoint time,
                               const std::string& actor) override {
    return RevokeArtifact(ledger_, sha256, key, reason, time, actor);
  }

 private:
  ledger::Ledger& ledger_;
};

}  // namespace attest::signer
