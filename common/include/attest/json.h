// The project's JSON: nlohmann::json values, parsed strictly, and serialized
// canonically per RFC 8785 (JSON Canonicalization Scheme) wherever bytes get
// hashed or signed.
//
// "Strict" means the input is I-JSON (RFC 7493): valid UTF-8, no duplicate
// object keys, and no number that an IEEE 754 double cannot hold exactly
// enough to print back unchanged. Anything else is rejected with the byte
// offset, because two readers that disagree on what a document says cannot
// agree on its hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/error.h"

namespace attest {

using Json = nlohmann::json;

struct JsonLimits {
  std::size_t max_depth = 64;  // nesting of arrays and objects
};

Result<Json> ParseJsonStrict(std::string_view text, const JsonLimits& limits = {});

namespace internal {
// ParseJsonStrict's two paths, exposed for the differential fuzzer: the
// fast one (simdjson) gives nullopt for anything it leaves to the strict one
// (nlohmann SAX with the I-JSON rules), which has the final word.
std::optional<Json> ParseJsonFastPath(std::string_view text, const JsonLimits& limits);
Result<Json> ParseJsonStrictSlowPath(std::string_view text, const JsonLimits& limits);
}  // namespace internal

// RFC 8785 serialization. Fails only for numbers JSON cannot carry (NaN,
// infinities) or strings that are not valid UTF-8, which ParseJsonStrict
// never produces.
Result<std::string> CanonicalJson(const Json& value);
Status AppendCanonicalJson(const Json& value, std::string& out);

// Appends `text` as an RFC 8785 JSON string (quotes included). Precondition:
// `text` is valid UTF-8.
void AppendJsonString(std::string_view text, std::string& out);

// Appends the ECMAScript Number::toString form RFC 8785 §3.2.2.3 requires.
// Precondition: `value` is finite.
void AppendEcmaScriptNumber(double value, std::string& out);

// Orders object keys as RFC 8785 §3.2.3 does: by UTF-16 code units.
bool JsonKeyLess(std::string_view a, std::string_view b);

// The number rules of ParseJsonStrict and CanonicalJson, for code that
// consumes nlohmann SAX events itself. Each appends the RFC 8785 form, or
// fails (appending nothing) for a number a double cannot carry exactly.
Status AppendCanonicalInteger(std::int64_t value, std::string& out);
Status AppendCanonicalUnsigned(std::uint64_t value, std::string& out);
// `text` is the number as written: an integer literal too large for 64 bits
// arrives as a float and must still print back unchanged.
Status AppendCanonicalFloat(double value, std::string_view text, std::string& out);

// Writes RFC 8785 output from SAX-style events, for input whose object
// members already arrive in canonical order (anything this project wrote).
// Every method returns false when it cannot go on: a member out of order or
// repeated, a number a double cannot carry, too deep a nesting. The caller
// then falls back to ParseJsonStrict and CanonicalJson, which sort and
// explain.
class CanonicalJsonStreamer {
 public:
  explicit CanonicalJsonStreamer(std::string& out, std::size_t max_depth = JsonLimits{}.max_depth)
      : out_(out), max_depth_(max_depth) {}

  bool Null();
  bool Boolean(bool value);
  bool Integer(std::int64_t value);
  bool Unsigned(std::uint64_t value);
  bool Float(double value, std::string_view text);
  bool String(std::string_view value);
  bool StartObject();
  bool Key(std::string_view key);
  bool EndObject();
  bool StartArray();
  bool EndArray();

  // Ready for a new document; keeps the buffers.
  void Reset();
  bool done() const { return started_ && frames_.empty(); }

 private:
  struct Frame {
    bool is_object;
    bool first = true;
    std::string last_key;
  };
  bool BeforeValue();

  std::string& out_;
  const std::size_t max_depth_;
  std::vector<Frame> frames_;
  bool started_ = false;
};

// Human-facing output (CLI, logs): indented, invalid UTF-8 replaced.
std::string PrettyJson(const Json& value);

// Looks up `key` in an object; nullptr when `object` is not an object or
// lacks the key.
const Json* FindMember(const Json& object, std::string_view key);

}  // namespace attest
