// CanonicalJsonStreamer: RFC 8785 output straight from SAX events.
#include "attest/json.h"
#include "attest/utf8.h"

namespace attest {

void CanonicalJsonStreamer::Reset() {
  frames_.clear();
  started_ = false;
}

// Separators before a value; also marks the start of the document.
bool CanonicalJsonStreamer::BeforeValue() {
  if (frames_.empty()) {
    if (started_) return false;  // more than one value
    started_ = true;
    return true;
  }
  Frame& frame = frames_.back();
  if (!frame.is_object) {
    if (!frame.first) out_.push_back(',');
    frame.first = false;
  }
  return true;
}

bool CanonicalJsonStreamer::Null() {
  if (!BeforeValue()) return false;
  out_ += "null";
  return true;
}

bool CanonicalJsonStreamer::Boolean(bool value) {
  if (!BeforeValue()) return false;
  out_ += value ? "true" : "false";
  return true;
}

bool CanonicalJsonStreamer::Integer(std::int64_t value) {
  if (!BeforeValue()) return false;
  return AppendCanonicalInteger(value, out_).ok();
}

bool CanonicalJsonStreamer::Unsigned(std::uint64_t value) {
  if (!BeforeValue()) return false;
  return AppendCanonicalUnsigned(value, out_).ok();
}

bool CanonicalJsonStreamer::Float(double value, std::string_view text) {
  if (!BeforeValue()) return false;
  return AppendCanonicalFloat(value, text, out_).ok();
}

bool CanonicalJsonStreamer::String(std::string_view value) {
  if (!BeforeValue()) return false;
  if (!IsValidUtf8(value)) return false;
  AppendJsonString(value, out_);
  return true;
}

bool CanonicalJsonStreamer::StartObject() {
  if (!BeforeValue()) return false;
  if (frames_.size() >= max_depth_) return false;
  frames_.push_back(Frame{true, true, {}});
  out_.push_back('{');
  return true;
}

bool CanonicalJsonStreamer::Key(std::string_view key) {
  Frame& frame = frames_.back();
  if (!frame.first && !JsonKeyLess(frame.last_key, key)) {
    return false;  // out of canonical order, or repeated: only a sorting parser can decide
  }
  if (!frame.first) out_.push_back(',');
  frame.first = false;
  frame.last_key.assign(key);
  AppendJsonString(key, out_);
  out_.push_back(':');
  return true;
}

bool CanonicalJsonStreamer::EndObject() {
  frames_.pop_back();
  out_.push_back('}');
  return true;
}

bool CanonicalJsonStreamer::StartArray() {
  if (!BeforeValue()) return false;
  if (frames_.size() >= max_depth_) return false;
  frames_.push_back(Frame{false, true, {}});
  out_.push_back('[');
  return true;
}

bool CanonicalJsonStreamer::EndArray() {
  frames_.pop_back();
  out_.push_back(']');
  return true;
}

}  // namespace attest
