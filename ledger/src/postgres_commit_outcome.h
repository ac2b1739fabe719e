// Finding out whether a write transaction committed when the connection died
// after its COMMIT was sent (pg::IsCommitOutcomeUnknown): look, on a new
// connection, for the last row it wrote. Rows are append-only, so a row found
// there with the same content stays the transaction's proof of commit.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "attest/ledger/entry.h"
#include "attest/pg/pg.h"

namespace attest::ledger {

// True when the row a transaction wrote is in the database as it wrote it.
using CommitWitness = std::function<Result<bool>(pg::Connection& connection)>;

CommitWitness EntryWitness(std::uint64_t seq, const Hash& entry_hash);
CommitWitness CheckpointWitness(std::uint64_t tree_size, std::string note);
CommitWitness MetaWitness(std::string key, std::string value);

// OK when the witness's row is there (the transaction committed); kIo with
// IsConnectionLost but not IsCommitOutcomeUnknown when it is not (it did not
// commit, and running it again is safe); `unknown` itself, with context, when
// the witness cannot be read.
Status ResolveCommitOutcome(pg::Connection& fresh, const CommitWitness& witness,
                            const Error& unknown);

}  // namespace attest::ledger
