// The ledger database schema as numbered migrations (FORMAT.md §7).
#pragma once

#include <string>

#include "attest/sqlite.h"

namespace attest::ledger {

// Marks the file as a ledger (PRAGMA application_id) and applies every
// migration, in one transaction.
Status CreateSchema(SqliteDatabase& db);

// Refuses files that are not ledgers, or that a newer program wrote; applies
// pending migrations when writable.
Status CheckOrMigrateSchema(SqliteDatabase& db, const std::string& path, bool read_only);

}  // namespace attest::ledger
