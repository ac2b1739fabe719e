// C2SP signed notes (c2sp.org/signed-note) with Ed25519, and the key text
// formats Go's golang.org/x/mod/sumdb/note uses, so checkpoints interoperate
// with the transparency-log ecosystem (witnesses, tlog tooling).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attest/ed25519.h"
#include "attest/error.h"
#include "attest/secret.h"

namespace attest::ledger {

inline constexpr std::size_t kMaxNoteBytes = 1 << 20;
inline constexpr std::size_t kMaxNoteSignatures = 100;

// A key that may verify notes: the name and id select it, the key checks.
struct NoteVerifier {
  std::string name;
  std::uint32_t key_id = 0;  // SHA-256(name || 0x0A || 0x01 || public key)[:4]
  Ed25519PublicKey public_key{};
};

// A key that signs notes. Move-only; the private key stays in guarded memory.
struct NoteSigner {
  std::string name;
  std::uint32_t key_id = 0;
  Ed25519PrivateKey key;
};

// Key names are non-empty and hold no whitespace or '+' (kInvalidArgument).
Status CheckNoteKeyName(std::string_view name);
std::uint32_t NoteKeyId(std::string_view name, const Ed25519PublicKey& key);
Result<NoteVerifier> MakeNoteVerifier(std::string_view name, const Ed25519PublicKey& key);

// "<name>+<8 hex key id>+<base64(0x01 || public key)>". Parsing a key file
// that is not one is kCorrupt, as for a malformed note.
std::string FormatVerifierKey(const NoteVerifier& verifier);
Result<NoteVerifier> ParseVerifierKey(std::string_view text);

// "PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>", built and
// parsed in guarded memory.
Result<SecretBytes> FormatSignerKey(std::string_view name, const Ed25519PrivateKey& key);
Result<NoteSigner> ParseSignerKey(const SecretBytes& secret);

// Signs `text` (non-empty, ending in '\n', no blank line, no control
// characters but '\n'; else kInvalidArgument): returns text + "\n" + "— <name> <base64(id ||
// sig)>\n".
Result<std::string> SignNote(std::string_view text, const NoteSigner& signer);

struct NoteSignature {
  std::string name;
  std::uint32_t key_id = 0;
  Bytes signature;
};

struct ParsedNote {
  std::string text;  // ends with '\n'
  std::vector<NoteSignature> signatures;
};

// Structure only; nothing is trusted yet. kCorrupt when malformed.
Result<ParsedNote> ParseNote(std::string_view note);

// The note's text when `verifier` signed it. kVerificationFailed when the
// key's signature is missing ("signed by ...: <names>") or does not verify;
// signatures by other keys are ignored, as the spec requires.
Result<std::string> VerifyNote(std::string_view note, const NoteVerifier& verifier);

std::string DescribeKey(std::string_view name, std::uint32_t key_id);  // "name+0a1b2c3d"

}  // namespace attest::ledger
