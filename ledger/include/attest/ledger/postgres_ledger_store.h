// The PostgreSQL LedgerStore: the ledger of several verifier processes (or
// machines) that share one database. Appends serialize on one row lock (the
// tree head, SELECT ... FOR UPDATE) inside the appending transaction; every
// commit is durable as the server's synchronous_commit makes it (on by
// default). Tables are named ledger_*, so the ledger can share a database
// with other stores. Schema: ledger/src/postgres_schema.cpp.
#pragma once

#include <memory>
#include <string>

#include "attest/ledger/ledger_store.h"

namespace attest::ledger {

struct PostgresStoreOptions {
  // How long a writer waits for another's lock on the tree head (then kBusy).
  int lock_timeout_ms = 30000;
  int connect_timeout_seconds = 10;
  // Every transaction READ ONLY; Open applies no migration.
  bool read_only = false;
};

// True for "postgresql://..." and "postgres://...": what a --db or storage
// setting names a PostgreSQL database with, rather than a SQLite file.
bool IsPostgresUrl(const std::string& name);

// Creates the ledger schema in the database `url` names (which must exist)
// and returns a connection to it; kAlreadyExists when the database already
// holds one. The URL carries no password (pg/pg.h).
Result<std::unique_ptr<LedgerStore>> CreatePostgresLedgerStore(const std::string& url,
                                                               const PostgresStoreOptions& options);
// Connects to a database that holds a ledger schema, applying pending schema
// migrations (under a lock: two processes opening at once migrate once);
// kNotFound when the database holds no ledger schema.
Result<std::unique_ptr<LedgerStore>> OpenPostgresLedgerStore(const std::string& url,
                                                             const PostgresStoreOptions& options);

}  // namespace attest::ledger
