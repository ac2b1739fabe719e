// The ledger's PostgreSQL schema as numbered migrations, applied under an
// advisory lock so concurrent openers migrate once.
#pragma once

#include "attest/pg/pg.h"

namespace attest::ledger {

// Both wait for another schema change (or a migration for writers' table
// locks) up to lock_timeout_ms, then kBusy.
//
// Applies every migration to a database with no ledger schema; kAlreadyExists
// when it has a ledger. A current schema with no metadata, entries or
// checkpoints (a creation interrupted before Ledger::Initialize committed)
// is accepted as it is.
Status CreatePostgresSchema(pg::Connection& connection, int lock_timeout_ms);

// kNotFound when the database holds no ledger schema; kUnsupported when a
// newer program wrote it (or, read-only, when it needs migrating); otherwise
// applies what is pending.
Status CheckOrMigratePostgresSchema(pg::Connection& connection, bool read_only,
                                    int lock_timeout_ms);

}  // namespace attest::ledger
