// ServiceStore on PostgreSQL (issue 14), through attest_pg (libpq): several
// verifier processes share one database. Times are bigint microseconds as
// in the SQLite store; challenges expire by the server's clock.
#pragma once

#include <memory>
#include <string>

#include "attest/error.h"
#include "attest/service/store.h"

namespace attest::service {

inline constexpr int kPostgresServiceSchemaVersion = 3;
// Connections a store holds at most unless told otherwise: calls on more
// threads at once wait for one. Opened as needed; one more holds the ledger
// drain lock while a drain runs.
inline constexpr int kPostgresServiceConnections = 4;

// Connects to `url` (postgresql://..., no password in it). With `create`
// the schema is made if the database holds none; either way an older one is
// migrated under an advisory lock (two verifiers starting at once do not
// both migrate), and a newer one is kUnsupported naming both versions.
// `connections`: the pool's size (1 to 256).
Result<std::unique_ptr<ServiceStore>> OpenPostgresServiceStore(
    const std::string& url, bool create, int connections = kPostgresServiceConnections);

}  // namespace attest::service
