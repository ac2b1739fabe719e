// Checkpoints: the tree size and root of a ledger at one moment, as the text
// of a signed note (c2sp.org/tlog-checkpoint).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "attest/error.h"
#include "attest/ledger/merkle.h"
#include "attest/ledger/note.h"

namespace attest::ledger {

struct Checkpoint {
  std::string origin;  // the ledger's name; also its key name
  std::uint64_t tree_size = 0;
  Hash root_hash{};
};

// "<origin>\n<size>\n<base64 root>\n"
std::string FormatCheckpointText(const Checkpoint& checkpoint);
// Accepts and ignores extension lines, as the spec requires; kCorrupt when
// malformed.
Result<Checkpoint> ParseCheckpointText(std::string_view text);

// Verifies the note's signature by `verifier`, then parses it. A checkpoint
// whose origin differs from the key name is refused: the key speaks for one
// ledger only.
Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& verifier);

}  // namespace attest::ledger
