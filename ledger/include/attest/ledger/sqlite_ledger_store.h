// The SQLite LedgerStore: one database file in WAL mode, synchronous=FULL,
// so every committed append survives a crash or power loss. Schema: FORMAT.md §7.
#pragma once

#include <memory>
#include <string>

#include "attest/ledger/ledger_store.h"

namespace attest::ledger {

struct SqliteStoreOptions {
  int busy_timeout_ms = 30000;  // how long a writer waits for another's lock
  bool read_only = false;
};

// Creates a new, empty ledger database; fails if `path` exists. The file is
// created 0640: audit data for the service and its group, not the world.
Result<std::unique_ptr<LedgerStore>> CreateSqliteLedgerStore(const std::string& path,
                                                             const SqliteStoreOptions& options);
// Opens an existing ledger database, applying pending schema migrations.
Result<std::unique_ptr<LedgerStore>> OpenSqliteLedgerStore(const std::string& path,
                                                           const SqliteStoreOptions& options);

}  // namespace attest::ledger
