// ServiceStore on PostgreSQL (issue 14), through attest_pg (libpq): several
// verifier processes share one database. Times are bigint microseconds as
// in the SQLite store; challenges expire by the server's clock.
#pragma once

#include <chrono>
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

// Solo mode: a store that has seen no sign of another writer for this long
// (from its opening on) answers GetNodeForChallenge from the rows it last
// read or wrote, without a round trip. The signs, and why a stale row costs
// the node one retry and never a wrong record: NodeRowCache
// (src/store/postgres_internal.h). Two refreshes of the trusted nodes'
// versions (every 5 s) fall within it.
inline constexpr std::chrono::milliseconds kPostgresSoloAfter{10'000};
// How long a look that found no other verifier keeps a store solo. A
// verifier that finds others at its start waits this long before it
// serves, so that no solo verifier misses its writes.
inline constexpr std::chrono::seconds kPostgresLookStands{3};

// Connects to `url` (postgresql://..., no password in it). With `create`
// the schema is made if the database holds none; either way an older one is
// migrated under an advisory lock (two verifiers starting at once do not
// both migrate), and a newer one is kUnsupported naming both versions.
// `connections`: the pool's size (1 to 256).
Result<std::unique_ptr<ServiceStore>> OpenPostgresServiceStore(
    const std::string& url, bool create, int connections = kPostgresServiceConnections,
    std::chrono::milliseconds solo_after = kPostgresSoloAfter);

}  // namespace attest::service
