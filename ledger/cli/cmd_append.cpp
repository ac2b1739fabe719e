// ledger append: one entry from flags, or a batch from a JSON Lines file.
#include <array>
#include <iostream>
#include <vector>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/json.h"

#include "cli/cli_common.h"
#include "cli/commands.h"

namespace attest::ledger::cli {
namespace {

const Command kAppend{
    "append",
    "ledger append --db PATH --kind KIND --actor ACTOR (--payload JSON | --payload-file FILE)\n"
    "              [--public-key BASE64 --signature BASE64] [--json]\n"
    "       ledger append --db PATH --batch FILE [--json]",
    "Appends an entry (or, with --batch, every line of a JSON Lines file in one\n"
    "transaction: all or nothing). The payload must be a JSON object of at most\n"
    "1 MiB; it is stored in RFC 8785 canonical form. A signed entry carries an\n"
    "Ed25519 signature over DSSE PAE(\"application/vnd.attest.<kind>+json\",\n"
    "canonical payload); it is checked before anything is written.\n"
    "Batch lines look like {\"kind\":..,\"actor\":..,\"payload\":{..}} with optional\n"
    "\"public_key\" and \"signature\".",
    {DbFlag(),
     {"kind", "KIND", "entry kind, e.g. node.enrolled (see FORMAT.md for the list)"},
     {"actor", "ACTOR", "who caused the entry"},
     {"payload", "JSON", "the payload, a JSON object"},
     {"payload-file", "FILE", "read the payload from FILE ('-' for stdin)"},
     {"public-key", "BASE64", "Ed25519 public key of a signed entry"},
     {"signature", "BASE64", "Ed25519 signature of a signed entry"},
     {"batch", "FILE", "append every line of a JSON Lines file, atomically"},
     {"json", "", "print the result as JSON"}},
};

constexpr std::size_t kMaxBatchBytes = 256u << 20;

Result<std::optional<EntrySignature>> SignatureFrom(const std::optional<std::string>& key_text,
                                                    const std::optional<std::string>& sig_text) {
  if (!key_text && !sig_text) return std::optional<EntrySignature>();
  if (!key_text || !sig_text) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a signed entry needs both a public key and a signature");
  }
  auto key = Base64Decode(*key_text);
  auto signature = Base64Decode(*sig_text);
  if (!key.ok() || key->size() != kEd25519PublicKeySize) {
    return MakeError(ErrorCode::kInvalidArgument, "public key is not base64 of 32 bytes");
  }
  if (!signature.ok() || signature->size() != kEd25519SignatureSize) {
    return MakeError(ErrorCode::kInvalidArgument, "signature is not base64 of 64 bytes");
  }
  EntrySignature result{};
  std::copy(key->begin(), key->end(), result.public_key.begin());
  std::copy(signature->begin(), signature->end(), result.signature.begin());
  return std::optional<EntrySignature>(result);
}

Result<std::string> ReadPayloadFile(const std::string& path) {
  if (path != "-") return ReadFile(path, kMaxPayloadBytes);
  std::string payload;
  std::array<char, 65536> buffer{};
  while (std::cin.read(buffer.data(), buffer.size()) || std::cin.gcount() > 0) {
    payload.append(buffer.data(), static_cast<std::size_t>(std::cin.gcount()));
    if (payload.size() > kMaxPayloadBytes) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "payload on stdin is more than the limit of 1 MiB");
    }
  }
  return payload;
}

Result<NewEntry> EntryFromFlags(const ParsedFlags& flags) {
  auto kind = flags.Value("kind");
  auto actor = flags.Value("actor");
  if (!kind) return MakeError(ErrorCode::kInvalidArgument, "--kind is required");
  if (!actor) return MakeError(ErrorCode::kInvalidArgument, "--actor is required");
  NewEntry entry{*kind, *actor, "", std::nullopt};
  auto inline_payload = flags.Value("payload");
  auto payload_file = flags.Value("payload-file");
  if (inline_payload.has_value() == payload_file.has_value()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "give exactly one of --payload and --payload-file");
  }
  if (inline_payload) {
    entry.payload_json = *inline_payload;
  } else {
    ATTEST_ASSIGN_OR_RETURN(entry.payload_json, ReadPayloadFile(*payload_file));
  }
  ATTEST_ASSIGN_OR_RETURN(entry.signature,
                          SignatureFrom(flags.Value("public-key"), flags.Value("signature")));
  return entry;
}

Result<std::string> OptionalString(const Json& line, const char* name) {
  const Json* value = FindMember(line, name);
  if (value == nullptr) return std::string();
  if (!value->is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("\"") + name + "\" is not a string");
  }
  return value->get<std::string>();
}

Result<NewEntry> EntryFromBatchLine(std::string_view line) {
  ATTEST_ASSIGN_OR_RETURN(Json parsed, ParseJsonStrict(line));
  if (!parsed.is_object()) return MakeError(ErrorCode::kInvalidArgument, "not a JSON object");
  NewEntry entry;
  ATTEST_ASSIGN_OR_RETURN(entry.kind, OptionalString(parsed, "kind"));
  ATTEST_ASSIGN_OR_RETURN(entry.actor, OptionalString(parsed, "actor"));
  const Json* payload = FindMember(parsed, "payload");
  if (payload == nullptr) return MakeError(ErrorCode::kInvalidArgument, "\"payload\" is missing");
  ATTEST_ASSIGN_OR_RETURN(entry.payload_json, CanonicalJson(*payload));
  ATTEST_ASSIGN_OR_RETURN(std::string key, OptionalString(parsed, "public_key"));
  ATTEST_ASSIGN_OR_RETURN(std::string signature, OptionalString(parsed, "signature"));
  ATTEST_ASSIGN_OR_RETURN(
      entry.signature,
      SignatureFrom(key.empty() ? std::nullopt : std::optional<std::string>(key),
                    signature.empty() ? std::nullopt : std::optional<std::string>(signature)));
  return entry;
}

Result<std::vector<NewEntry>> EntriesFromBatch(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxBatchBytes));
  std::vector<NewEntry> entries;
  std::size_t line_number = 0;
  std::string_view rest(text);
  while (!rest.empty()) {
    auto newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    ++line_number;
    if (line.empty()) continue;
    auto entry = EntryFromBatchLine(line);
    if (!entry.ok()) {
      return entry.error().WithContext(path + " line " + std::to_string(line_number));
    }
    entries.push_back(std::move(entry).value());
  }
  if (entries.empty()) return MakeError(ErrorCode::kInvalidArgument, path + ": no entries");
  return entries;
}

}  // namespace

int RunAppend(CommandArgs args, std::ostream& out, std::ostream& err) {
  Start start = StartCommand(kAppend, args, out, err, 0);
  if (!start.run) return start.exit_code;
  Invocation& run = *start.run;

  std::vector<NewEntry> entries;
  if (auto batch = run.flags.Value("batch")) {
    for (const char* single :
         {"kind", "actor", "payload", "payload-file", "public-key", "signature"}) {
      if (run.flags.Has(single))
        return run.Fail(std::string("--batch cannot be combined with --") + single);
    }
    auto parsed = EntriesFromBatch(*batch);
    if (!parsed.ok()) return run.Fail(parsed.error());
    entries = std::move(parsed).value();
  } else {
    auto entry = EntryFromFlags(run.flags);
    if (!entry.ok()) return run.Fail(entry.error());
    entries.push_back(std::move(entry).value());
  }

  auto ledger = OpenLedger(run.flags, /*read_only=*/false);
  if (!ledger.ok()) return run.Fail(ledger.error());
  auto appended = ledger->AppendBatch(entries);
  if (!appended.ok()) return run.Fail(appended.error());
  for (const AppendedEntry& entry : *appended) {
    if (run.flags.Has("json")) {
      out << "{\"seq\":" << entry.seq << ",\"entry_hash\":\"" << HexEncode(entry.entry_hash)
          << "\",\"chain_hash\":\"" << HexEncode(entry.chain_hash) << "\"}\n";
    } else {
      out << "appended seq " << entry.seq << " entry_hash " << HexEncode(entry.entry_hash) << "\n";
    }
  }
  return kExitOk;
}

}  // namespace attest::ledger::cli
