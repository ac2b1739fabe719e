#include "src/export_line_sax.h"

#include <array>

#include "attest/encoding.h"
#include "attest/json.h"

namespace attest::ledger {
namespace {

enum Field : unsigned {
  kSeq,
  kTime,
  kKind,
  kActor,
  kPayload,
  kKeyId,
  kPublicKey,
  kSignature,
  kEntryHash,
  kChainHash,
  kCheckpoint,
  kFieldCount,
};

constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "seq",        "time",      "kind",       "actor",      "payload",   "key_id",
    "public_key", "signature", "entry_hash", "chain_hash", "checkpoint"};

}  // namespace

// Any `return false` below means "let the DOM parser decide". Strings are
// copied, not moved, out of the lexer so both sides keep their buffers.
class ExportLineParser::Handler final : public nlohmann::json_sax<Json> {
 public:
  // The line's own object is one level; the payload gets the rest.
  Handler() : payload_(payload_text_, JsonLimits{}.max_depth - 1) {}

  void Reset(ExportLine& out) {
    out_ = &out;
    payload_text_.clear();
    payload_.Reset();
    payload_open_ = false;
    depth_ = 0;
    field_ = kFieldCount;
    seen_ = 0;
  }
  const std::string& payload_text() const { return payload_text_; }

  std::uint32_t seen() const { return seen_; }
  const std::string& text(Field field) const { return texts_[field]; }

  bool null() override { return in_payload() && payload_.Null(); }
  bool boolean(bool value) override { return in_payload() && payload_.Boolean(value); }
  bool number_integer(number_integer_t value) override {
    return in_payload() && payload_.Integer(value);
  }
  bool number_unsigned(number_unsigned_t value) override {
    if (in_payload()) return payload_.Unsigned(value);
    if (depth_ != 1 || field_ != kSeq || value == 0) return false;
    out_->entry.seq = value;
    return true;
  }
  bool number_float(number_float_t value, const string_t& text) override {
    return in_payload() && payload_.Float(value, text);
  }
  bool string(string_t& value) override {
    if (in_payload()) return payload_.String(value);
    if (depth_ != 1 || field_ == kSeq || field_ == kPayload) return false;
    texts_[field_].assign(value);
    return true;
  }
  bool binary(binary_t& /*value*/) override { return false; }

  bool start_object(std::size_t /*elements*/) override {
    if (in_payload()) return payload_.StartObject();
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    if (depth_ != 1 || field_ != kPayload) return false;
    payload_open_ = true;
    return payload_.StartObject();
  }
  bool end_object() override {
    if (in_payload()) return payload_.EndObject();
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t /*elements*/) override {
    return in_payload() && payload_.StartArray();
  }
  bool end_array() override { return in_payload() && payload_.EndArray(); }

  bool key(string_t& key) override {
    if (in_payload()) return payload_.Key(key);
    for (unsigned field = 0; field < kFieldCount; ++field) {
      if (kFieldNames[field] != key) continue;
      if ((seen_ & (1u << field)) != 0) return false;  // repeated
      seen_ |= 1u << field;
      field_ = field;
      return true;
    }
    return false;  // not part of the format
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*error*/) override {
    return false;
  }

 private:
  bool in_payload() const { return payload_open_ && !payload_.done(); }

  ExportLine* out_ = nullptr;
  std::string payload_text_;
  CanonicalJsonStreamer payload_;
  bool payload_open_ = false;
  int depth_ = 0;
  // A Field, held as its number: Handler is the header's class, and a member
  // of a type from this file's anonymous namespace is -Wsubobject-linkage
  // once this file is compiled in a unity batch (cmake/UnityBuild.cmake).
  unsigned field_ = kFieldCount;
  std::uint32_t seen_ = 0;
  std::array<std::string, kFieldCount> texts_;
};

namespace {

constexpr std::uint32_t Bit(Field field) { return 1u << field; }

bool DecodeBase64Into(const std::string& text, std::span<std::uint8_t> out) {
  auto bytes = Base64Decode(text);
  if (!bytes.ok() || bytes->size() != out.size()) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

bool FinishEntry(const ExportLineParser::Handler& handler, Entry& entry) {
  constexpr std::uint32_t kRequired = Bit(kSeq) | Bit(kTime) | Bit(kKind) | Bit(kActor) |
                                      Bit(kPayload) | Bit(kEntryHash) | Bit(kChainHash);
  constexpr std::uint32_t kSigned = Bit(kKeyId) | Bit(kPublicKey) | Bit(kSignature);
  const std::uint32_t seen = handler.seen();
  if ((seen & kRequired) != kRequired || (seen & Bit(kCheckpoint)) != 0) return false;
  if ((seen & kSigned) != 0 && (seen & kSigned) != kSigned) return false;
  EntryContent& content = entry.content;
  content.payload.assign(handler.payload_text());
  content.time = handler.text(kTime);
  content.kind = handler.text(kKind);
  content.actor = handler.text(kActor);
  if (!DecodeLowercaseHex(handler.text(kEntryHash), entry.entry_hash) ||
      !DecodeLowercaseHex(handler.text(kChainHash), entry.chain_hash)) {
    return false;
  }
  if ((seen & kSigned) == 0) {
    content.signature.reset();
    return true;
  }
  EntrySignature& signature = content.signature.emplace();
  return DecodeBase64Into(handler.text(kPublicKey), signature.public_key) &&
         DecodeBase64Into(handler.text(kSignature), signature.signature) &&
         handler.text(kKeyId) == KeyIdOf(signature.public_key);
}

}  // namespace

ExportLineParser::ExportLineParser() : handler_(std::make_unique<Handler>()) {}
ExportLineParser::~ExportLineParser() = default;

bool ExportLineParser::TryParse(std::string_view line, ExportLine& out) {
  handler_->Reset(out);
  bool parsed = false;
  try {
    parsed = Json::sax_parse(line.begin(), line.end(), handler_.get(), Json::input_format_t::json,
                             /*strict=*/true, /*ignore_comments=*/false);
  } catch (const std::exception&) {
    return false;
  }
  if (!parsed) return false;
  if (handler_->seen() == Bit(kCheckpoint)) {
    out.is_checkpoint = true;
    out.checkpoint = handler_->text(kCheckpoint);
    return true;
  }
  out.is_checkpoint = false;
  return FinishEntry(*handler_, out.entry);
}

}  // namespace attest::ledger
