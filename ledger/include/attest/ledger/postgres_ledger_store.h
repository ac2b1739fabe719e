// The PostgreSQL LedgerStore: the ledger of several verifier processes (or
// machines) that share one database. Appends serialize on one row lock (the
// tree head, SELECT ... FOR UPDATE) inside the appending transaction; every
// commit is durable as the server's synchronous_commit makes it (on by
// default). Tables are named ledger_*, so the ledger can share a database
// with other stores. Schema: ledger/src/postgres_schema.cpp.
//
// When the connection dies after a write transaction's COMMIT was sent, the
// store reconnects and looks for the transaction's last row (entry,
// checkpoint or metadata): found, the write succeeded; absent, it fails with
// a connection-lost kIo and is safe to run again; if even that cannot be
// found out, the error is pg::IsCommitOutcomeUnknown (see ledger_store.h).
// Either way the store goes on with the new connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attest/ledger/ledger_store.h"

namespace attest::ledger {

struct PostgresStoreOptions {
  // How long a writer waits for another's lock on the tree head (then kBusy);
  // set per write transaction (SET LOCAL), so it holds behind a pooler too.
  int lock_timeout_ms = 30000;
  int connect_timeout_seconds = 10;
  // Every transaction READ ONLY; Open applies no migration. A store opened
  // for writing asks libpq for a host that accepts writes
  // (target_session_attrs=read-write, unless the URL says otherwise).
  bool read_only = false;
  // Allows a TCP connection without a verified TLS server (sslmode disable,
  // allow, prefer or require in the URL); see pg::ConnectOptions.
  bool allow_insecure_transport = false;
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

// The tables the ledger's PostgreSQL schema makes (its ledger_* tables and
// its version table), in creation order.
std::vector<std::string> PostgresLedgerTables();
// SQL that removes the ledger's schema from a database: every table
// PostgresLedgerTables names and the trigger functions. For a tool that
// created a ledger and must take it away again (`verifier migrate` after a
// copy that failed), never for a ledger in use: it destroys the history.
std::string DropPostgresLedgerSql();

}  // namespace attest::ledger
