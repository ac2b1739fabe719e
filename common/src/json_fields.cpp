#include "attest/json_fields.h"

#include "attest/encoding.h"

namespace attest {

std::string JsonPath(std::string_view where, std::string_view key) {
  if (where.empty()) return std::string(key);
  return std::string(where) + "." + std::string(key);
}

Error JsonFields::Invalid(std::string_view where, std::string_view what) const {
  return MakeError(code_,
                   std::string(name_) + ": " + std::string(where) + ": " + std::string(what));
}

Status JsonFields::OnlyMembers(const Json& object, std::string_view where,
                               std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || key == name;
    if (!known) return Invalid(where.empty() ? "document" : where, "unknown field \"" + key + "\"");
  }
  return OkStatus();
}

Status JsonFields::RequireObject(const Json& value, std::string_view where) const {
  if (!value.is_object()) return Invalid(where.empty() ? "document" : where, "must be an object");
  return OkStatus();
}

Result<const Json*> JsonFields::Member(const Json& object, std::string_view key,
                                       std::string_view where) const {
  const Json* value = FindMember(object, key);
  if (value == nullptr) return Invalid(where, "missing");
  return value;
}

Result<std::uint64_t> JsonFields::Unsigned(const Json& object, std::string_view key,
                                           std::string_view where) const {
  ATTEST_ASSIGN_OR_RETURN(const Json* value, Member(object, key, where));
  if (value->is_number_unsigned()) return value->get<std::uint64_t>();
  if (value->is_number_integer() && value->get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value->get<std::int64_t>());
  }
  return Invalid(where, "must be a non-negative integer");
}

Result<bool> JsonFields::Boolean(const Json& object, std::string_view key,
                                 std::string_view where) const {
  ATTEST_ASSIGN_OR_RETURN(const Json* value, Member(object, key, where));
  if (!value->is_boolean()) return Invalid(where, "must be true or false");
  return value->get<bool>();
}

Result<std::string> JsonFields::String(const Json& object, std::string_view key,
                                       std::string_view where) const {
  ATTEST_ASSIGN_OR_RETURN(const Json* value, Member(object, key, where));
  if (!value->is_string()) return Invalid(where, "must be a string");
  return value->get<std::string>();
}

Status JsonFields::FixedHex(const Json& object, std::string_view key, std::string_view where,
                            std::span<std::uint8_t> out) const {
  ATTEST_ASSIGN_OR_RETURN(std::string hex, String(object, key, where));
  if (!DecodeLowercaseHex(hex, out)) {
    return Invalid(where, "must be " + std::to_string(out.size() * 2) + " lowercase hex digits");
  }
  return OkStatus();
}

Result<Bytes> JsonFields::Hex(const Json& object, std::string_view key, std::string_view where,
                              std::size_t max_bytes) const {
  ATTEST_ASSIGN_OR_RETURN(const Json* value, Member(object, key, where));
  const std::string* hex = value->is_string() ? &value->get_ref<const std::string&>() : nullptr;
  if (hex == nullptr || hex->size() % 2 != 0 || hex->size() / 2 > max_bytes) {
    return Invalid(where,
                   "must be lowercase hex of at most " + std::to_string(max_bytes) + " bytes");
  }
  Bytes bytes(hex->size() / 2);
  if (!DecodeLowercaseHex(*hex, bytes)) return Invalid(where, "must be lowercase hex");
  return bytes;
}

Result<Bytes> JsonFields::Base64(const Json& object, std::string_view key,
                                 std::string_view where) const {
  ATTEST_ASSIGN_OR_RETURN(const Json* value, Member(object, key, where));
  if (!value->is_string()) return Invalid(where, "must be a base64 string");
  Result<Bytes> bytes = Base64Decode(value->get_ref<const std::string&>());
  if (!bytes.ok()) return Invalid(where, bytes.error().message);
  return bytes;
}

Status JsonFields::Absent(const Json& object, std::string_view key, std::string_view where,
                          std::string_view why) const {
  if (FindMember(object, key) != nullptr) return Invalid(where, why);
  return OkStatus();
}

}  // namespace attest
