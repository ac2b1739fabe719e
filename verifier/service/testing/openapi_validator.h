// Checks the service's answers against its contract, verifier/openapi.yaml:
// the integration tests pass every response they receive through here. A
// JSON Schema subset, the part the contract uses: $ref, type (one or a
// list), properties, required, additionalProperties, items, enum, const,
// pattern, minimum, maximum, minLength, maxLength, minItems, maxItems,
// oneOf, anyOf, allOf. An unknown keyword in the contract is an error, so
// the contract cannot say more than is checked.
#pragma once

#include <string>
#include <string_view>

#include "attest/error.h"
#include "attest/json.h"

namespace attest::test {

class OpenApiContract {
 public:
  static Result<OpenApiContract> Load(const std::string& yaml_path);

  // The operation for METHOD and a concrete path ("/v1/nodes/ab12/evidence"
  // matches "/v1/nodes/{node_id}/evidence"), its response for `status`
  // (or "default"), and that response's schema for `content_type`. Errors
  // say which part is missing from the contract or which member of `body`
  // breaks the schema ("$.reasons[0].code: not one of the enum values").
  Status CheckResponse(std::string_view method, std::string_view path, int status,
                       std::string_view content_type, std::string_view body) const;

  // The schema check alone, for the validator's own tests.
  Status CheckAgainst(const Json& schema, const Json& value) const;

  // Every schema in the contract (components and responses) uses only the
  // keywords above: what the contract says, the checker enforces.
  Status CheckKeywords() const;

  const Json& document() const { return document_; }

 private:
  explicit OpenApiContract(Json document) : document_(std::move(document)) {}
  Status Check(const Json& schema, const Json& value, const std::string& where, int depth) const;
  Result<const Json*> Resolve(const Json& schema) const;
  Json document_;
};

}  // namespace attest::test
