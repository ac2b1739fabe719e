// Drains the store's ledger outbox into the ledger, in order, exactly once,
// whichever processes drain at the same time and whatever else is appended
// to the ledger: drainers take the store's drain lock, and a batch is
// recorded as an intent in the service database before its append, so a
// crash between the append and the mark is finished, not repeated.
#pragma once

#include <cstddef>

#include "attest/error.h"
#include "attest/ledger/ledger.h"
#include "attest/service/store.h"

namespace attest::service {

// Appends every pending event (actor "verifier", its outbox id in the
// payload) and marks it written. Returns how many were appended. Safe from
// several threads, processes and (on PostgreSQL) machines at once.
Result<std::size_t> DrainLedgerOutbox(ServiceStore& store, ledger::Ledger& ledger);

}  // namespace attest::service
