// Numbered schema migrations, as every PostgreSQL store of the project keeps
// them: migration N is script N - 1, and a table of applied versions says
// how far a database is. The caller runs these inside its own schema
// transaction, under its own advisory lock, so two processes starting at
// once never both migrate.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "attest/error.h"
#include "attest/pg/pg.h"

namespace attest::pg {

struct SchemaMigrations {
  std::string_view name;           // "ledger", "service": in error messages
  std::string_view version_table;  // a constant of the program, never input
  std::span<const std::string_view> scripts;
  std::string_view upgrade;  // what to upgrade for a newer schema: "the verifier"
  std::int64_t latest() const { return static_cast<std::int64_t>(scripts.size()); }
};

// The applied version: 0 when the version table is empty, nullopt when the
// database has no version table at all (no schema of this kind).
Result<std::optional<std::int64_t>> AppliedSchemaVersion(Connection& connection,
                                                         const SchemaMigrations& schema);

// Creates the version table when `applied` is nullopt, then applies every
// migration after `applied` and records each. A database newer than the
// program (applied > latest) is kUnsupported, telling what to upgrade.
Status ApplySchemaMigrations(Connection& connection, const SchemaMigrations& schema,
                             std::optional<std::int64_t> applied);

// kUnsupported: "NAME schema version N is newer than this program
// understands (M); upgrade UPGRADE".
Error SchemaTooNew(const SchemaMigrations& schema, std::int64_t applied);

}  // namespace attest::pg
