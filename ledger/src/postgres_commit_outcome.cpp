#include "src/postgres_commit_outcome.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace attest::ledger {
namespace {

using pg::Param;

std::int64_t SqlInt8(std::uint64_t value) { return static_cast<std::int64_t>(value); }

bool SameBytes(ByteView stored, ByteView expected) {
  return stored.size() == expected.size() &&
         std::equal(stored.begin(), stored.end(), expected.begin());
}

}  // namespace

CommitWitness EntryWitness(std::uint64_t seq, const Hash& entry_hash) {
  return [seq, entry_hash](pg::Connection& connection) -> Result<bool> {
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult rows,
                            connection.Query("look for the entry an interrupted commit wrote",
                                             "SELECT entry_hash FROM ledger_entries WHERE seq = $1",
                                             {Param::Int64(SqlInt8(seq))}));
    if (rows.rows() == 0) return false;
    ATTEST_ASSIGN_OR_RETURN(ByteView stored, rows.Bytes(0, 0));
    // Another writer's entry at this seq means ours never committed.
    return SameBytes(stored, entry_hash);
  };
}

CommitWitness CheckpointWitness(std::uint64_t tree_size, std::string note) {
  return [tree_size, note = std::move(note)](pg::Connection& connection) -> Result<bool> {
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult rows,
        connection.Query("look for the checkpoint an interrupted commit wrote",
                         "SELECT note FROM ledger_checkpoints WHERE tree_size = $1",
                         {Param::Int64(SqlInt8(tree_size))}));
    if (rows.rows() == 0) return false;
    ATTEST_ASSIGN_OR_RETURN(std::string_view stored, rows.Text(0, 0));
    return stored == note;
  };
}

CommitWitness MetaWitness(std::string key, std::string value) {
  return
      [key = std::move(key), value = std::move(value)](pg::Connection& connection) -> Result<bool> {
        ATTEST_ASSIGN_OR_RETURN(
            pg::QueryResult rows,
            connection.Query("look for the metadata an interrupted commit wrote",
                             "SELECT value FROM ledger_meta WHERE key = $1", {Param::Text(key)}));
        if (rows.rows() == 0) return false;
        ATTEST_ASSIGN_OR_RETURN(std::string_view stored, rows.Text(0, 0));
        return stored == value;
      };
}

Status ResolveCommitOutcome(pg::Connection& fresh, const CommitWitness& witness,
                            const Error& unknown) {
  Result<bool> committed = witness(fresh);
  if (!committed.ok()) {
    Error still_unknown = unknown;
    still_unknown.message += "; looking for its writes failed too: " + committed.error().message;
    return still_unknown;
  }
  if (*committed) return OkStatus();
  Error not_committed =
      MakeError(ErrorCode::kIo,
                "commit: the connection was lost during COMMIT and the transaction did not "
                "commit (its last row is not in the database); running it again is safe");
  not_committed.sqlstate = "08006";  // connection failure: IsConnectionLost
  return not_committed;
}

}  // namespace attest::ledger
