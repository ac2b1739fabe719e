// ServiceStore on one SQLite file (WAL, foreign keys on, busy timeout), with
// a schema version and numbered migrations run at open.
#pragma once

#include <memory>
#include <string>

#include "attest/error.h"
#include "attest/service/store.h"

namespace attest::service {

inline constexpr int kServiceSchemaVersion = 1;

// Creates the file (0600) when `create` is set, else it must exist. A file
// from a newer schema is kUnsupported, naming both versions.
Result<std::unique_ptr<ServiceStore>> OpenSqliteServiceStore(const std::string& path,
                                                             bool create);

}  // namespace attest::service
