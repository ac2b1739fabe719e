// The ledger's PostgreSQL schema as numbered migrations, applied under an
// advisory lock so concurrent openers migrate once.
#pragma once

#include "attest/pg/pg.h"

namespace attest::ledger {

// Applies every migration to a database with no ledger schema; kAlreadyExists
// when it has one.
Status CreatePostgresSchema(pg::Connection& connection);

// kNotFound when the database holds no ledger schema; kUnsupported when a
// newer program wrote it (or, read-only, when it needs migrating); otherwise
// applies what is pending.
Status CheckOrMigratePostgresSchema(pg::Connection& connection, bool read_only);

}  // namespace attest::ledger
