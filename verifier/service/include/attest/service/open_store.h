// The service store of a deployment, whichever backend its storage names.
#pragma once

#include <memory>

#include "attest/error.h"
#include "attest/service/config.h"
#include "attest/service/postgres_store.h"
#include "attest/service/store.h"

namespace attest::service {

// SQLite: `location`'s service.db (`create` makes it when absent);
// PostgreSQL: the database at its URL (`create` makes the schema when
// absent), with a pool of `connections`, solo after `solo_after`. Either way
// an older schema is migrated.
Result<std::unique_ptr<ServiceStore>> OpenServiceStore(
    const StorageLocation& location, bool create, int connections = kPostgresServiceConnections,
    std::chrono::milliseconds solo_after = kPostgresSoloAfter);

}  // namespace attest::service
