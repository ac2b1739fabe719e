#include "attest/pg/schema.h"

#include <string>

namespace attest::pg {

Result<std::optional<std::int64_t>> AppliedSchemaVersion(Connection& connection,
                                                         const SchemaMigrations& schema) {
  const std::string what = "read the " + std::string(schema.name) + " schema version";
  const std::string table(schema.version_table);
  ATTEST_ASSIGN_OR_RETURN(
      QueryResult exists,
      connection.Query(what, "SELECT to_regclass($1) IS NOT NULL", {Param::Text(table)}));
  ATTEST_ASSIGN_OR_RETURN(bool present, exists.Bool(0, 0));
  if (!present) return std::optional<std::int64_t>();
  ATTEST_ASSIGN_OR_RETURN(
      QueryResult version,
      connection.Query(what, "SELECT coalesce(max(version), 0)::int8 FROM " + table));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t applied, version.Int64(0, 0));
  return std::optional<std::int64_t>(applied);
}

Status ApplySchemaMigrations(Connection& connection, const SchemaMigrations& schema,
                             std::optional<std::int64_t> applied) {
  const std::string table(schema.version_table);
  if (!applied) {
    ATTEST_RETURN_IF_ERROR(connection.ExecuteScript(
        "create the " + std::string(schema.name) + " schema",
        "CREATE TABLE " + table +
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"));
    applied = 0;
  }
  if (*applied > schema.latest()) return SchemaTooNew(schema, *applied);
  for (std::int64_t version = *applied + 1; version <= schema.latest(); ++version) {
    const std::string what =
        "apply " + std::string(schema.name) + " schema migration " + std::to_string(version);
    ATTEST_RETURN_IF_ERROR(connection.ExecuteScript(
        what, std::string(schema.scripts[static_cast<std::size_t>(version - 1)])));
    ATTEST_RETURN_IF_ERROR(connection.Execute(
        what, "INSERT INTO " + table + "(version) VALUES ($1)", {Param::Int64(version)}));
  }
  return OkStatus();
}

Error SchemaTooNew(const SchemaMigrations& schema, std::int64_t applied) {
  return MakeError(ErrorCode::kUnsupported, std::string(schema.name) + " schema version " +
                                                std::to_string(applied) +
                                                " is newer than this program understands (" +
                                                std::to_string(schema.latest()) + "); upgrade " +
                                                std::string(schema.upgrade));
}

}  // namespace attest::pg
