#include "attest/service/open_store.h"

#include "attest/service/postgres_store.h"
#include "attest/service/sqlite_store.h"

namespace attest::service {

Result<std::unique_ptr<ServiceStore>> OpenServiceStore(const StorageLocation& location, bool create,
                                                       int connections,
                                                       std::chrono::milliseconds solo_after) {
  if (location.is_postgres()) {
    return OpenPostgresServiceStore(location.postgres_url, create, connections, solo_after);
  }
  return OpenSqliteServiceStore(location.service_db(), create);
}

}  // namespace attest::service
