// Reads the JSON of a NAME.key file (FORMAT.md §1.1) where it lies, in the
// caller's guarded memory: a parser for the small JSON subset key files use
// that copies no value, only member names, so an unencrypted seed never
// leaves sodium_malloc memory (the general JSON parsers keep copies of
// their input in buffers of their own).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest::signer::internal {

struct KeyFileMember;

// One value of a key file. Strings are views into the parsed text, which
// must outlive the value.
struct KeyFileValue {
  enum class Type { kNull, kString, kInteger, kObject };
  Type type = Type::kNull;
  ByteView text;                       // kString: the bytes between the quotes
  std::uint64_t integer = 0;           // kInteger: at most 2^53
  std::vector<KeyFileMember> members;  // kObject: in file order, names unique
};

struct KeyFileMember {
  std::string name;  // [a-z_]{1,32}: safe to show in errors
  KeyFileValue value;
};

// Parses `text` as one JSON object of at most two levels whose values are
// null, non-negative integers, strings of printable ASCII without escape
// sequences, or (at the top level) objects of the same. JSON whitespace is
// allowed between tokens. Anything else is kCorrupt naming `name` and the
// byte offset; no error quotes a value.
Result<KeyFileValue> ParseKeyFileJson(ByteView text, std::string_view name);

}  // namespace attest::signer::internal
