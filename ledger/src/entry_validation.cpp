// PrepareEntry: everything an append checks before it touches the database.
#include <algorithm>
#include <array>

#include "attest/json.h"
#include "attest/ledger/entry.h"
#include "attest/ledger/kinds.h"
#include "attest/utf8.h"

namespace attest::ledger {
namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

bool IsWordStart(char c) { return c >= 'a' && c <= 'z'; }
bool IsWordChar(char c) { return IsWordStart(c) || (c >= '0' && c <= '9') || c == '_'; }

Status CheckActor(std::string_view actor) {
  if (actor.empty()) return Invalid("actor is empty: name who caused the entry");
  if (actor.size() > kMaxActorBytes) {
    return Invalid("actor is " + std::to_string(actor.size()) + " bytes, more than the limit of " +
                   std::to_string(kMaxActorBytes));
  }
  if (auto bad = FindInvalidUtf8(actor)) {
    return Invalid("actor is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
  }
  if (HasControlCharacter(actor)) return Invalid("actor contains a control character");
  return OkStatus();
}

Result<std::string> CanonicalPayload(std::string_view payload_json) {
  if (payload_json.size() > kMaxPayloadBytes) {
    return Invalid("payload is " + std::to_string(payload_json.size()) +
                   " bytes, more than the limit of " + std::to_string(kMaxPayloadBytes) +
                   " (1 MiB)");
  }
  if (auto bad = FindInvalidUtf8(payload_json)) {
    return Invalid("payload is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
  }
  auto parsed = ParseJsonStrict(payload_json);
  if (!parsed.ok()) return Invalid("payload: " + parsed.error().message);
  if (!parsed->is_object()) return Invalid("payload must be a JSON object");
  auto canonical = CanonicalJson(*parsed);
  if (!canonical.ok()) return Invalid("payload: " + canonical.error().message);
  if (canonical->size() > kMaxPayloadBytes) {
    return Invalid("payload is more than " + std::to_string(kMaxPayloadBytes) +
                   " bytes in canonical form");
  }
  return canonical;
}

}  // namespace

Status CheckKindSyntax(std::string_view kind) {
  if (kind.empty()) return Invalid("kind is empty");
  if (kind.size() > kMaxKindBytes) {
    return Invalid("kind is longer than " + std::to_string(kMaxKindBytes) + " bytes");
  }
  // word ("." word)+ where word = [a-z][a-z0-9_]*
  std::size_t words = 0;
  std::size_t begin = 0;
  while (begin <= kind.size()) {
    std::size_t end = std::min(kind.find('.', begin), kind.size());
    std::string_view word = kind.substr(begin, end - begin);
    if (word.empty() || !IsWordStart(word.front()) ||
        !std::all_of(word.begin(), word.end(), IsWordChar)) {
      words = 0;
      break;
    }
    ++words;
    begin = end + 1;
  }
  if (words < 2) {
    return Invalid("kind \"" + std::string(kind) +
                   "\" is malformed: use lowercase dotted words such as \"node.enrolled\"");
  }
  return OkStatus();
}

Status CheckKindKnown(std::string_view kind) {
  ATTEST_RETURN_IF_ERROR(CheckKindSyntax(kind));
  if (std::find(kinds::kAll.begin(), kinds::kAll.end(), kind) == kinds::kAll.end()) {
    std::string known;
    for (std::string_view k : kinds::kAll) known += (known.empty() ? "" : ", ") + std::string(k);
    return Invalid("unknown kind \"" + std::string(kind) + "\"; known kinds: " + known);
  }
  return OkStatus();
}

Result<EntryContent> PrepareEntry(const NewEntry& input, TimePoint now) {
  ATTEST_RETURN_IF_ERROR(CheckKindKnown(input.kind));
  ATTEST_RETURN_IF_ERROR(CheckActor(input.actor));
  ATTEST_ASSIGN_OR_RETURN(std::string payload, CanonicalPayload(input.payload_json));
  EntryContent content{FormatRfc3339Utc(now), input.kind, input.actor, std::move(payload),
                       input.signature};
  if (content.signature && !VerifyEntrySignature(content)) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "signature does not verify with key " +
                         KeyIdOf(content.signature->public_key) + " over the " + input.kind +
                         " payload (it must sign DSSE PAE(\"" + PayloadTypeForKind(input.kind) +
                         "\", canonical payload))");
  }
  return content;
}

}  // namespace attest::ledger
