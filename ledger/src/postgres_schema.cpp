#include "src/postgres_schema.h"

#include <array>
#include <string>
#include <string_view>

#include "attest/ledger/postgres_ledger_store.h"
#include "attest/pg/schema.h"

namespace attest::ledger {
namespace {

using pg::Param;

// The key of the transaction-scoped advisory lock every schema change takes:
// "ALDG", as the SQLite ledger's application_id.
constexpr std::int64_t kSchemaLockKey = 0x414c4447;

// Append-only is enforced twice, as in the SQLite schema: by this program, and
// by triggers that make an UPDATE, DELETE or TRUNCATE fail loudly. Neither
// stops the database's owner; `ledger verify` and signed checkpoints catch
// that. The tree head row exists only to be locked: the head itself is the
// last entry.
constexpr std::array<std::string_view, 2> kPostgresMigrations = {
    R"sql(
CREATE TABLE ledger_meta(
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE ledger_entries(
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  time text NOT NULL,
  kind text NOT NULL,
  actor text NOT NULL,
  payload text NOT NULL,
  public_key bytea,
  signature bytea,
  entry_hash bytea NOT NULL,
  chain_hash bytea NOT NULL
);

CREATE TABLE ledger_merkle_nodes(
  last_leaf bigint NOT NULL,
  level integer NOT NULL CHECK (level BETWEEN 1 AND 63),
  hash bytea NOT NULL,
  PRIMARY KEY (last_leaf, level)
);

CREATE TABLE ledger_checkpoints(
  tree_size bigint PRIMARY KEY,
  root_hash bytea NOT NULL,
  note text NOT NULL,
  created_at text NOT NULL
);

CREATE TABLE ledger_tree_head(
  id boolean PRIMARY KEY DEFAULT true CHECK (id)
);
INSERT INTO ledger_tree_head DEFAULT VALUES;

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_merkle_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_merkle_nodes
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_merkle_nodes_no_truncate BEFORE TRUNCATE ON ledger_merkle_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
)sql",
    // 2: the tree-head row, which serializes appends, cannot be removed
    // (appends only lock it, so no UPDATE either), and sizes cannot be
    // negative.
    R"sql(
CREATE FUNCTION ledger_keep_tree_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger''s tree-head row serializes appends: it cannot be changed or removed'
    USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER ledger_tree_head_kept BEFORE UPDATE OR DELETE ON ledger_tree_head
  FOR EACH ROW EXECUTE FUNCTION ledger_keep_tree_head();
CREATE TRIGGER ledger_tree_head_no_truncate BEFORE TRUNCATE ON ledger_tree_head
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_keep_tree_head();
ALTER TABLE ledger_checkpoints ADD CONSTRAINT ledger_checkpoints_tree_size_check
  CHECK (tree_size >= 0);
ALTER TABLE ledger_merkle_nodes ADD CONSTRAINT ledger_merkle_nodes_last_leaf_check
  CHECK (last_leaf >= 0);
)sql",
};

constexpr pg::SchemaMigrations kLedgerSchema{"ledger", "ledger_schema_migrations",
                                             kPostgresMigrations, "the ledger tools"};

// Inside the schema transaction: a wait for the schema lock (or for a table
// lock a migration needs while writers run) ends after lock_timeout_ms,
// kBusy; a migration's statements, which may scan every row, run without the
// session's statement timeout.
Status TakeSchemaLock(pg::Connection& connection, int lock_timeout_ms) {
  ATTEST_RETURN_IF_ERROR(connection.Execute(
      "set the schema transaction's timeouts",
      "SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', '0', true)",
      {Param::Text(std::to_string(lock_timeout_ms) + "ms")}));
  return connection.Execute("lock the ledger schema", "SELECT pg_advisory_xact_lock($1)",
                            {Param::Int64(kSchemaLockKey)});
}

}  // namespace

Status CreatePostgresSchema(pg::Connection& connection, int lock_timeout_ms) {
  ATTEST_ASSIGN_OR_RETURN(pg::Transaction transaction, pg::Transaction::Begin(connection));
  ATTEST_RETURN_IF_ERROR(TakeSchemaLock(connection, lock_timeout_ms));
  ATTEST_ASSIGN_OR_RETURN(std::optional<std::int64_t> applied,
                          pg::AppliedSchemaVersion(connection, kLedgerSchema));
  if (applied) {
    return MakeError(
        ErrorCode::kAlreadyExists,
        "the database already holds a ledger (schema version " + std::to_string(*applied) + ")");
  }
  ATTEST_RETURN_IF_ERROR(pg::ApplySchemaMigrations(connection, kLedgerSchema, std::nullopt));
  return transaction.Commit();
}

Status CheckOrMigratePostgresSchema(pg::Connection& connection, bool read_only,
                                    int lock_timeout_ms) {
  // Most opens find the schema current: read without the lock first.
  ATTEST_ASSIGN_OR_RETURN(std::optional<std::int64_t> applied,
                          pg::AppliedSchemaVersion(connection, kLedgerSchema));
  if (!applied) {
    return MakeError(ErrorCode::kNotFound,
                     "the database holds no ledger (create one with `ledger init --db URL`)");
  }
  if (*applied > kLedgerSchema.latest()) return pg::SchemaTooNew(kLedgerSchema, *applied);
  if (*applied == kLedgerSchema.latest()) return OkStatus();
  if (read_only) {
    return MakeError(ErrorCode::kUnsupported, "ledger schema version " + std::to_string(*applied) +
                                                  " needs migrating; open it once read-write");
  }
  ATTEST_ASSIGN_OR_RETURN(pg::Transaction transaction, pg::Transaction::Begin(connection));
  ATTEST_RETURN_IF_ERROR(TakeSchemaLock(connection, lock_timeout_ms));
  // Under the lock: another process may have migrated meanwhile.
  ATTEST_ASSIGN_OR_RETURN(applied, pg::AppliedSchemaVersion(connection, kLedgerSchema));
  if (!applied) return MakeError(ErrorCode::kNotFound, "the ledger schema disappeared");
  ATTEST_RETURN_IF_ERROR(pg::ApplySchemaMigrations(connection, kLedgerSchema, applied));
  return transaction.Commit();
}

// The objects kPostgresMigrations creates: a migration that adds one adds
// it here too (postgres_store_test.cpp compares these with the database).
std::vector<std::string> PostgresLedgerTables() {
  return {"ledger_schema_migrations", "ledger_meta",        "ledger_entries",
          "ledger_merkle_nodes",      "ledger_checkpoints", "ledger_tree_head"};
}

std::string DropPostgresLedgerSql() {
  std::string sql = "DROP TABLE IF EXISTS ";
  const std::vector<std::string> tables = PostgresLedgerTables();
  for (std::size_t i = 0; i < tables.size(); ++i) sql += (i == 0 ? "" : ", ") + tables[i];
  return sql + ";\nDROP FUNCTION IF EXISTS ledger_refuse_change(), ledger_keep_tree_head();\n";
}

}  // namespace attest::ledger
