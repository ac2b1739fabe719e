#include "attest/ledger/checkpoint.h"

#include <algorithm>

#include "attest/encoding.h"
#include "attest/flags.h"

namespace attest::ledger {
namespace {

// A checkpoint's text comes from a signed note: malformed text is kCorrupt.
Error MalformedCheckpoint(std::string message) {
  return MakeError(ErrorCode::kCorrupt, "checkpoint: " + std::move(message));
}

}  // namespace

std::string FormatCheckpointText(const Checkpoint& checkpoint) {
  return checkpoint.origin + "\n" + std::to_string(checkpoint.tree_size) + "\n" +
         Base64Encode(AsBytes(checkpoint.root_hash)) + "\n";
}

Result<Checkpoint> ParseCheckpointText(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto newline = text.find('\n');
    if (newline == std::string_view::npos)
      return MalformedCheckpoint("text does not end with a newline");
    lines.push_back(text.substr(0, newline));
    text.remove_prefix(newline + 1);
  }
  if (lines.size() < 3) return MalformedCheckpoint("needs origin, tree size and root hash lines");
  if (std::any_of(lines.begin(), lines.end(), [](std::string_view l) { return l.empty(); })) {
    return MalformedCheckpoint("has an empty line");
  }
  Checkpoint checkpoint;
  checkpoint.origin = std::string(lines[0]);
  std::string size_text(lines[1]);
  auto size = ParseUnsigned(size_text, "tree size");
  if (!size.ok() || (size_text.size() > 1 && size_text[0] == '0')) {
    return MalformedCheckpoint("tree size \"" + size_text + "\" is not a decimal number");
  }
  checkpoint.tree_size = *size;
  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != checkpoint.root_hash.size()) {
    return MalformedCheckpoint("root hash is not base64 of 32 bytes");
  }
  std::copy(root->begin(), root->end(), checkpoint.root_hash.begin());
  return checkpoint;
}

Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& verifier) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, VerifyNote(note, verifier));
  ATTEST_ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpointText(text));
  if (checkpoint.origin != verifier.name) {
    return MakeError(ErrorCode::kVerificationFailed, "checkpoint origin \"" + checkpoint.origin +
                                                         "\" is not the key's ledger \"" +
                                                         verifier.name + "\"");
  }
  return checkpoint;
}

}  // namespace attest::ledger
