// ServiceStore on one SQLite file (WAL, foreign keys on, busy timeout), with
// a schema version and numbered migrations run at open. Times are stored as
// integer microseconds since the Unix epoch (a TimePoint read back is
// truncated to the microsecond). Thread safe: one writer connection behind a
// mutex and a pool of query-only reader connections, so reads never queue
// behind a commit.
#pragma once

#include <memory>
#include <string>

#include "attest/error.h"
#include "attest/service/store.h"

namespace attest::service {

inline constexpr int kServiceSchemaVersion = 6;

// Creates the file (0600) when `create` is set and it is missing (an
// existing one is opened); without `create` it must exist (kNotFound). A
// file from a newer schema is kUnsupported, naming both versions.
Result<std::unique_ptr<ServiceStore>> OpenSqliteServiceStore(const std::string& path, bool create);

}  // namespace attest::service
