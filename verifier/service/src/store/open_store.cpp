#include "attest/service/open_store.h"

#include "attest/service/postgres_store.h"
#include "attest/service/sqlite_store.h"

namespace attest::service {

Result<std::unique_ptr<ServiceStore>> OpenServiceStore(const StorageLocation& location, bool create,
                                                       int connections) {
  if (location.is_postgres()) {
    return OpenPostgresServiceStore(location.postgres_url, create, connections);
  }
  return OpenSqliteServiceStore(location.service_db(), create);
}

}  // namespace attest::service
