// Copies a ledger from one store to another, row for row (the way a
// deployment moves from SQLite to PostgreSQL: `verifier migrate`). Nothing is
// recomputed: entries, Merkle nodes, checkpoints and metadata arrive exactly
// as stored, so hashes, chain, tree and signed checkpoints stay the same.
// Verify the copy afterwards (VerifyDatabase, verify.h).
#pragma once

#include <cstdint>

#include "attest/error.h"
#include "attest/ledger/ledger_store.h"

namespace attest::ledger {

struct LedgerCopyCounts {
  std::uint64_t entries = 0;
  std::uint64_t nodes = 0;  // interior Merkle nodes
  std::uint64_t checkpoints = 0;
  std::uint64_t meta = 0;
};

// Reads `source` in one read snapshot and writes every row into `target` in
// one write transaction, so the target gets all of it or nothing. The target
// must be empty: kAlreadyExists when it holds entries or metadata. Entries
// must run 1, 2, 3, ... in the source (kCorrupt otherwise, as for a row the
// source cannot read).
Result<LedgerCopyCounts> CopyLedgerStore(LedgerStore& source, LedgerStore& target);

}  // namespace attest::ledger
