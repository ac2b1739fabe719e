// A ledger entry, its canonical byte encoding and its hashes (FORMAT.md §2-3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/ed25519.h"
#include "attest/error.h"
#include "attest/ledger/merkle.h"

namespace attest::ledger {

inline constexpr std::size_t kMaxPayloadBytes = 1 << 20;  // 1 MiB, canonical form
inline constexpr std::size_t kMaxActorBytes = 256;
inline constexpr std::size_t kMaxKindBytes = 64;
inline constexpr std::uint8_t kEntryFormatVersion = 1;

struct EntrySignature {
  Ed25519PublicKey public_key;
  Ed25519Signature signature;
};

// What an entry says. Together with its seq it determines the entry hash.
struct EntryContent {
  std::string time;     // RFC 3339 UTC, microseconds, "Z"
  std::string kind;     // e.g. "node.enrolled"
  std::string actor;    // who caused it
  std::string payload;  // a JSON object in RFC 8785 canonical form
  std::optional<EntrySignature> signature;
};

struct Entry {
  std::uint64_t seq = 0;  // 1-based; leaf index seq - 1
  EntryContent content;
  Hash entry_hash{};
  Hash chain_hash{};
};

// What a caller asks to append; validated and canonicalized by PrepareEntry.
struct NewEntry {
  std::string kind;
  std::string actor;
  std::string payload_json;
  std::optional<EntrySignature> signature;
};

// The canonical entry bytes of FORMAT.md §2 (what the leaf hash covers).
Bytes EncodeEntry(std::uint64_t seq, const EntryContent& content);

// SHA-256(0x00 || EncodeEntry(seq, content)), streamed through `hasher`
// without building the byte string.
Hash ComputeEntryHash(std::uint64_t seq, const EntryContent& content, Sha256& hasher);
Hash ComputeEntryHash(std::uint64_t seq, const EntryContent& content);

// SHA-256(previous || entry_hash); the chain starts from 32 zero bytes.
Hash ComputeChainHash(const Hash& previous, const Hash& entry_hash, Sha256& hasher);
inline constexpr Hash kGenesisChainHash{};

// An entry signature signs DSSE PAE(PayloadTypeForKind(kind), payload):
// the kind is bound into the signature, so an approval can never be
// replayed as, say, a revocation.
std::string PayloadTypeForKind(std::string_view kind);
Bytes SignedMessage(std::string_view kind, std::string_view canonical_payload);
bool VerifyEntrySignature(const EntryContent& content);

// Kinds are lowercase dotted words ("cert.revoked"). Appends accept only the
// kinds in the registry (FORMAT.md §5); verification accepts any well-formed
// kind, so an older verifier can still check a newer ledger.
Status CheckKindSyntax(std::string_view kind);
Status CheckKindKnown(std::string_view kind);

// Validates every field, canonicalizes the payload and checks the signature.
// Errors are kInvalidArgument (kVerificationFailed for a bad signature) with
// a message that names the field.
Result<EntryContent> PrepareEntry(const NewEntry& input, TimePoint now);

}  // namespace attest::ledger
