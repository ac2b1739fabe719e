// Typed access to the members of a strictly parsed JSON document, for the
// project's document parsers (runtime log, evidence, policy). Every error
// carries one code and names the document and the member's place in it:
// "policy.json: boot.pcrs.sha256.4[1]: must be 64 lowercase hex digits".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/json.h"

namespace attest {

class JsonFields {
 public:
  // `name` (the file or document) must outlive this object.
  JsonFields(std::string_view name, ErrorCode code) : name_(name), code_(code) {}

  Error Invalid(std::string_view where, std::string_view what) const;

  // Only `allowed` members may appear: an unknown one is a document this
  // version does not understand, not something to skip.
  Status OnlyMembers(const Json& object, std::string_view where,
                     std::initializer_list<std::string_view> allowed) const;
  Status RequireObject(const Json& value, std::string_view where) const;

  Result<const Json*> Member(const Json& object, std::string_view key,
                             std::string_view where) const;
  Result<std::uint64_t> Unsigned(const Json& object, std::string_view key,
                                 std::string_view where) const;
  Result<bool> Boolean(const Json& object, std::string_view key, std::string_view where) const;
  Result<std::string> String(const Json& object, std::string_view key,
                             std::string_view where) const;
  // Exactly out.size() bytes as lowercase hex.
  Status FixedHex(const Json& object, std::string_view key, std::string_view where,
                  std::span<std::uint8_t> out) const;
  // Lowercase hex of any length up to `max_bytes`.
  Result<Bytes> Hex(const Json& object, std::string_view key, std::string_view where,
                    std::size_t max_bytes) const;
  Result<Bytes> Base64(const Json& object, std::string_view key, std::string_view where) const;
  // Fails when the member is present: for members that must not appear in
  // a given variant of an object.
  Status Absent(const Json& object, std::string_view key, std::string_view where,
                std::string_view why) const;

  std::string_view name() const { return name_; }

 private:
  std::string_view name_;
  ErrorCode code_;
};

// "where.key", or "key" at the top level.
std::string JsonPath(std::string_view where, std::string_view key);

}  // namespace attest
