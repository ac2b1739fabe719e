// Detached signature envelopes (FORMAT.md §2): FILE.sig.json says who
// signed which bytes (sha256, size) for what purpose. The signature is the
// ledger's entry signature (ledger/FORMAT.md §4) over the envelope's
// canonical payload, so the same signature can be stored in a ledger entry
// of kind LedgerKindFor(purpose) and re-checked by `ledger verify`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/ed25519.h"
#include "attest/error.h"
#include "attest/sha256.h"
#include "attest/signer/file_digest.h"
#include "attest/signer/manifest.h"

namespace attest::signer {

enum class Purpose { kArtifact, kConfig, kPolicy };

std::string_view PurposeName(Purpose purpose);  // "artifact", "config", "policy"
Result<Purpose> ParsePurpose(std::string_view name);
// "artifact.approved", "config.changed", "policy.signed".
std::string_view LedgerKindFor(Purpose purpose);

// What an envelope's sha256 and size are of: a file's bytes, or a
// directory manifest's canonical JSON (FORMAT.md §3). Signed as `digest_of`,
// so an envelope cannot be turned from one into the other.
enum class DigestOf { kFile, kManifest };
std::string_view DigestOfName(DigestOf digest_of);  // "file", "manifest"

// The envelope format this build writes and reads (FORMAT.md §2.1); older
// envelopes are refused with a message that says to re-sign.
inline constexpr std::uint64_t kEnvelopeVersion = 2;

inline constexpr std::size_t kMaxCommentBytes = 4096;
inline constexpr std::size_t kMaxEnvelopeBytes = 64 << 20;  // a manifest of a large tree

// A parsed envelope. Parsing checks structure and that key_id matches
// public_key, not the signature: that is VerifyFile's job.
struct Envelope {
  std::string path;  // as given when signing; informational, not checked
  Sha256Digest sha256{};
  std::uint64_t size = 0;
  Purpose purpose = Purpose::kArtifact;
  std::string key_id;
  Ed25519PublicKey public_key{};
  std::string time;  // RFC 3339 UTC
  std::optional<std::string> comment;
  Ed25519Signature signature{};
  // Present for a directory envelope: sha256/size are then those of the
  // manifest's canonical JSON, and the signed `digest_of` is "manifest".
  std::optional<Manifest> manifest;
};

// kManifest exactly when the envelope carries a manifest: the one source of
// the signed `digest_of`, so removing the manifest changes the signed bytes.
inline DigestOf DigestOfEnvelope(const Envelope& envelope) {
  return envelope.manifest ? DigestOf::kManifest : DigestOf::kFile;
}

// The canonical JSON payload that is signed (FORMAT.md §2.2): every member
// but public_key, signature and manifest, with digest_of and version.
Result<std::string> SignedPayload(const Envelope& envelope);
// ledger::SignedMessage(LedgerKindFor(purpose), SignedPayload): DSSE PAE
// over the kind's payload type; the exact bytes the Ed25519 signature covers.
Result<Bytes> SignedMessage(const Envelope& envelope);

// Fills key_id, public_key and signature of `envelope` (its other fields
// set by the caller) with `key`.
Status SignEnvelope(Envelope& envelope, const Ed25519PrivateKey& key);

// Hashes `path` (streaming) and signs it. `comment` must be UTF-8.
// An envelope for content already hashed (a file, or a directory's
// manifest), signed.
Result<Envelope> SignDigest(const std::string& path, const FileDigest& digest,
                            const Ed25519PrivateKey& key, Purpose purpose,
                            std::optional<std::string> comment, TimePoint time,
                            std::optional<Manifest> manifest = std::nullopt);

Result<Envelope> SignFile(const std::string& path, const Ed25519PrivateKey& key, Purpose purpose,
                          std::optional<std::string> comment, TimePoint time);

// Canonical JSON + "\n".
Result<std::string> SerializeEnvelope(const Envelope& envelope);
// Strict: an older version, unknown members, wrong types, bad encodings, a
// key_id that is not the public key's and a digest_of that disagrees with
// the manifest's presence are kCorrupt errors naming `name` and the field.
Result<Envelope> ParseEnvelope(std::string_view text, std::string_view name);

}  // namespace attest::signer
