-- Least privilege on PostgreSQL: the schema's owner creates and upgrades
-- the tables (`verifier init`, and one start of a new version), and the
-- role `verifier serve` runs as may only read and write rows. It cannot
-- change or remove what the ledger holds, alter a table, drop a trigger,
-- or write the schema versions, even if the verifier host is taken over.
--
-- Run as the owner, after `verifier init` and after every upgrade (new
-- tables need their grants), in the verifiers' database:
--   psql -d attest -v ON_ERROR_STOP=1 -f postgres-roles.sql
-- The runtime role, `attest_verifier` here, logs in with its own password
-- (a passfile); `createuser attest_verifier` makes it.

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO attest_verifier;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO attest_verifier;

-- The ledger is append-only: rows are added, never changed or removed.
-- (UPDATE stays on ledger_tree_head: appends lock its row with
-- SELECT ... FOR UPDATE, and its trigger refuses any change to it.)
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_entries, ledger_merkle_nodes, ledger_checkpoints
  FROM attest_verifier;
-- What only the owner writes: the schema versions and the ledger's identity.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE
  ON service_schema_migrations, ledger_schema_migrations, ledger_meta FROM attest_verifier;
