// The JSON Lines and CSV line formats: one writer and one reader per format.
#include <algorithm>
#include <array>

#include "attest/encoding.h"
#include "attest/json.h"
#include "attest/ledger/export.h"

#include "src/export_line_sax.h"

namespace attest::ledger {
namespace {

// A malformed export line or proof entry is kCorrupt (FORMAT.md): a document
// received, not an argument.
Error MalformedExport(std::string what) { return MakeError(ErrorCode::kCorrupt, std::move(what)); }

Error FieldError(std::string_view name, std::string what) {
  return MalformedExport("field \"" + std::string(name) + "\" " + std::move(what));
}

// What the shared JSON helpers (strict parsing, canonical form) call an
// invalid argument is, in a document, a malformed document.
Status AsMalformed(Status status) {
  if (status.ok() || status.error().code != ErrorCode::kInvalidArgument) return status;
  return MalformedExport(status.error().message);
}

Result<const std::string*> StringField(const Json& line, std::string_view name) {
  const Json* value = FindMember(line, name);
  if (value == nullptr) return FieldError(name, "is missing");
  if (!value->is_string()) return FieldError(name, "is not a string");
  return &value->get_ref<const std::string&>();
}

template <std::size_t N>
Status FixedBytesField(const Json& line, std::string_view name, bool hex,
                       std::array<std::uint8_t, N>& out) {
  ATTEST_ASSIGN_OR_RETURN(const std::string* text, StringField(line, name));
  if (hex) {
    if (!DecodeLowercaseHex(*text, out)) {
      return FieldError(name, "is not lowercase hex of " + std::to_string(N) + " bytes");
    }
    return OkStatus();
  }
  auto bytes = Base64Decode(*text);
  if (!bytes.ok() || bytes->size() != N) {
    return FieldError(name, "is not base64 of " + std::to_string(N) + " bytes");
  }
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return OkStatus();
}

Status ParseSignatureFields(const Json& line, Entry& entry) {
  bool has_key = FindMember(line, "public_key") != nullptr;
  bool has_signature = FindMember(line, "signature") != nullptr;
  bool has_key_id = FindMember(line, "key_id") != nullptr;
  if (!has_key && !has_signature && !has_key_id) {
    entry.content.signature.reset();
    return OkStatus();
  }
  if (!has_key || !has_signature) {
    return MalformedExport("a signed entry needs both \"public_key\" and \"signature\"");
  }
  EntrySignature& signature = entry.content.signature.emplace();
  ATTEST_RETURN_IF_ERROR(FixedBytesField(line, "public_key", false, signature.public_key));
  ATTEST_RETURN_IF_ERROR(FixedBytesField(line, "signature", false, signature.signature));
  if (has_key_id) {
    ATTEST_ASSIGN_OR_RETURN(const std::string* key_id, StringField(line, "key_id"));
    if (*key_id != KeyIdOf(signature.public_key)) {
      return FieldError("key_id",
                        "is not the id of \"public_key\" (" + KeyIdOf(signature.public_key) + ")");
    }
  }
  return OkStatus();
}

constexpr std::array<std::string_view, 10> kEntryFields = {
    "seq",    "time",       "kind",      "actor",      "payload",
    "key_id", "public_key", "signature", "entry_hash", "chain_hash"};

void AppendCsvCell(std::string_view cell, std::string& out) {
  bool formula = !cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' ||
                                   cell[0] == '@' || cell[0] == '\t' || cell[0] == '\r');
  bool quote = formula || cell.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out += cell;
    return;
  }
  out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : cell) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

Status ParseExportEntry(const Json& line, Entry& entry) {
  if (!line.is_object()) return MalformedExport("entry is not a JSON object");
  for (const auto& [name, value] : line.items()) {
    if (std::find(kEntryFields.begin(), kEntryFields.end(), name) == kEntryFields.end()) {
      return FieldError(name, "is not part of the export format");
    }
  }
  const Json* seq = FindMember(line, "seq");
  if (seq == nullptr) return FieldError("seq", "is missing");
  if (!seq->is_number_unsigned() || seq->get<std::uint64_t>() == 0) {
    return FieldError("seq", "is not a positive integer");
  }
  entry.seq = seq->get<std::uint64_t>();
  ATTEST_ASSIGN_OR_RETURN(const std::string* time, StringField(line, "time"));
  ATTEST_ASSIGN_OR_RETURN(const std::string* kind, StringField(line, "kind"));
  ATTEST_ASSIGN_OR_RETURN(const std::string* actor, StringField(line, "actor"));
  entry.content.time = *time;
  entry.content.kind = *kind;
  entry.content.actor = *actor;
  const Json* payload = FindMember(line, "payload");
  if (payload == nullptr) return FieldError("payload", "is missing");
  if (!payload->is_object()) return FieldError("payload", "is not a JSON object");
  entry.content.payload.clear();
  ATTEST_RETURN_IF_ERROR(AsMalformed(AppendCanonicalJson(*payload, entry.content.payload)));
  ATTEST_RETURN_IF_ERROR(ParseSignatureFields(line, entry));
  ATTEST_RETURN_IF_ERROR(FixedBytesField(line, "entry_hash", true, entry.entry_hash));
  return FixedBytesField(line, "chain_hash", true, entry.chain_hash);
}

void AppendEntryLine(const Entry& entry, std::string& out) {
  const EntryContent& content = entry.content;
  out += "{\"seq\":";
  out += std::to_string(entry.seq);
  out += ",\"time\":";
  AppendJsonString(content.time, out);
  out += ",\"kind\":";
  AppendJsonString(content.kind, out);
  out += ",\"actor\":";
  AppendJsonString(content.actor, out);
  out += ",\"payload\":";
  out += content.payload;  // canonical JSON already
  if (content.signature) {
    out += ",\"key_id\":\"" + KeyIdOf(content.signature->public_key);
    out += "\",\"public_key\":\"" + Base64Encode(content.signature->public_key);
    out += "\",\"signature\":\"" + Base64Encode(content.signature->signature) + "\"";
  }
  out += ",\"entry_hash\":\"" + HexEncode(entry.entry_hash);
  out += "\",\"chain_hash\":\"" + HexEncode(entry.chain_hash) + "\"}";
}

void AppendCheckpointLine(std::string_view note, std::string& out) {
  out += "{\"checkpoint\":";
  AppendJsonString(note, out);
  out += "}";
}

Status ParseExportLineWithDom(std::string_view line, ExportLine& out) {
  Result<Json> document = ParseJsonStrict(line);
  if (!document.ok()) return MalformedExport(document.error().message);
  const Json& parsed = *document;
  if (!parsed.is_object()) return MalformedExport("line is not a JSON object");
  if (const Json* checkpoint = FindMember(parsed, "checkpoint")) {
    if (parsed.size() != 1 || !checkpoint->is_string()) {
      return MalformedExport("a checkpoint line holds only \"checkpoint\": a string");
    }
    out.is_checkpoint = true;
    out.checkpoint = checkpoint->get<std::string>();
    return OkStatus();
  }
  out.is_checkpoint = false;
  return ParseExportEntry(parsed, out.entry);
}

Status ParseExportLine(std::string_view line, ExportLine& out) {
  thread_local ExportLineParser parser;
  if (parser.TryParse(line, out)) return OkStatus();
  return ParseExportLineWithDom(line, out);
}

void AppendCsvHeader(std::string& out) {
  out += "seq,time,kind,actor,key_id,payload,entry_hash,chain_hash\r\n";
}

void AppendCsvRow(const Entry& entry, std::string& out) {
  const EntryContent& content = entry.content;
  out += std::to_string(entry.seq);
  for (std::string_view cell : {std::string_view(content.time), std::string_view(content.kind),
                                std::string_view(content.actor)}) {
    out.push_back(',');
    AppendCsvCell(cell, out);
  }
  out.push_back(',');
  if (content.signature) out += KeyIdOf(content.signature->public_key);
  out.push_back(',');
  AppendCsvCell(content.payload, out);
  out.push_back(',');
  out += HexEncode(entry.entry_hash);
  out.push_back(',');
  out += HexEncode(entry.chain_hash);
  out += "\r\n";
}

}  // namespace attest::ledger
