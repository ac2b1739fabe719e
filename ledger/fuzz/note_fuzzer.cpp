// Fuzzes the signed-note, checkpoint and key-text parsers. A parsed note
// must re-verify consistently, and a parsed checkpoint must format back to
// its first three lines.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/ledger/checkpoint.h"
#include "attest/ledger/note.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace attest::ledger;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const NoteVerifier key =
      ParseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
          .value();
  (void)VerifyNote(text, key);
  if (auto note = ParseNote(text); note.ok()) {
    if (note->text.empty() || note->text.back() != '\n' || note->signatures.empty()) std::abort();
  }
  if (auto checkpoint = ParseCheckpointText(text); checkpoint.ok()) {
    std::string formatted = FormatCheckpointText(*checkpoint);
    if (text.substr(0, formatted.size()) != formatted) {
      std::fprintf(stderr, "checkpoint does not format back to its text\n");
      std::abort();
    }
  }
  (void)ParseVerifierKey(text);
  return 0;
}
