// Drains the store's ledger outbox into the ledger, in order, exactly once:
// each entry's payload carries its outbox id, so after a crash between the
// ledger append and the outbox update, the next drain sees the id already in
// the ledger and skips it.
#pragma once

#include <cstddef>

#include "attest/error.h"
#include "attest/ledger/ledger.h"
#include "attest/service/store.h"

namespace attest::service {

// Appends every pending event (actor "verifier") and marks it written.
// Returns how many were appended. Safe to call from several threads: it
// serializes itself.
Result<std::size_t> DrainLedgerOutbox(ServiceStore& store, ledger::Ledger& ledger);

}  // namespace attest::service
