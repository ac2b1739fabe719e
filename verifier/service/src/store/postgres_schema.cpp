// The PostgreSQL service schema as numbered migrations, applied under a
// transaction-scoped advisory lock so two verifiers starting at once never
// both migrate. Columns as in the SQLite store (times are bigint
// microseconds), so rows pass through the same checks (postgres_relay.cpp).
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/pg/schema.h"
#include "attest/service/postgres_store.h"

#include "src/store/postgres_internal.h"

namespace attest::service::internal {
namespace {

using pg::Param;

// "AVSS", as the SQLite store's application_id.
constexpr std::int64_t kSchemaLockKey = 0x41565353;

constexpr std::array<std::string_view, 3> kPostgresServiceMigrations = {
    R"sql(
CREATE TABLE nodes(
  node_id text PRIMARY KEY,
  hostname text NOT NULL,
  ek_public bytea NOT NULL,
  ek_certificate bytea,
  ak_public bytea NOT NULL,
  state text NOT NULL,
  enrolled_at bigint NOT NULL,
  last_attestation bigint,
  last_verdict text NOT NULL,
  last_clock bigint,
  last_reset_count bigint,
  last_restart_count bigint,
  boot_reset_count bigint,
  boot_restart_count bigint,
  boot_log_digest bytea,
  boot_state text,
  reenroll_allowed_until bigint,
  version bigint NOT NULL,
  runtime_reset_count bigint,
  runtime_restart_count bigint,
  runtime_entries bigint,
  runtime_state text
);
CREATE INDEX nodes_by_state ON nodes(state, node_id);

CREATE TABLE enrollments(
  enrollment_id text PRIMARY KEY,
  node_id text NOT NULL,
  hostname text NOT NULL,
  ek_public bytea NOT NULL,
  ek_certificate bytea,
  ak_public bytea NOT NULL,
  secret_digest bytea NOT NULL,
  state text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  failed_attempts bigint NOT NULL,
  version bigint NOT NULL
);

CREATE TABLE certificates(
  serial_hex text PRIMARY KEY,
  node_id text NOT NULL REFERENCES nodes(node_id),
  not_before bigint NOT NULL,
  not_after bigint NOT NULL,
  certificate_pem text NOT NULL,
  revoked_at bigint,
  revocation_reason text NOT NULL
);
CREATE INDEX certificates_by_node ON certificates(node_id);
CREATE INDEX certificates_revoked ON certificates(not_after) WHERE revoked_at IS NOT NULL;

CREATE TABLE tokens(
  token_id text PRIMARY KEY,
  role text NOT NULL,
  label text NOT NULL,
  secret_digest bytea NOT NULL,
  created_at bigint NOT NULL,
  revoked_at bigint
);

CREATE TABLE policies(
  serial bigint PRIMARY KEY,
  document text NOT NULL,
  envelope text NOT NULL,
  applied_at bigint NOT NULL
);

CREATE TABLE crl_number(
  id boolean PRIMARY KEY CHECK (id),
  value bigint NOT NULL
);

-- A sequence never hands an id out twice; commits that queue events take
-- the outbox lock, so ids also commit in order.
CREATE TABLE ledger_outbox(
  outbox_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  payload text NOT NULL,
  recorded_at bigint NOT NULL
);

CREATE TABLE ledger_drain(
  id boolean PRIMARY KEY CHECK (id),
  last_outbox_id bigint NOT NULL CHECK (last_outbox_id >= 1),
  ledger_size_before bigint NOT NULL CHECK (ledger_size_before >= 0)
);

CREATE TABLE challenges(
  challenge_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  nonce bytea NOT NULL UNIQUE CHECK (length(nonce) = 32),
  node_id text NOT NULL,
  requester text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX challenges_by_node ON challenges(node_id, requester);
CREATE INDEX challenges_by_expiry ON challenges(expires_at);
CREATE TABLE challenge_redemptions(
  challenge_id bigint PRIMARY KEY REFERENCES challenges(challenge_id) ON DELETE CASCADE,
  redeemed_at bigint NOT NULL
);
)sql",
    R"sql(
-- Each challenge call is one statement (one round trip, one transaction):
-- the bodies PgRecordChallenge and PgRedeemChallenge ran statement by
-- statement in version 1. Times are the server's clock, in microseconds.
CREATE FUNCTION attest_service_record_challenge(
    p_node_id text, p_nonce bytea, p_requester text, p_lifetime_us bigint,
    p_max_outstanding bigint, p_max_per_node bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_now bigint := (extract(epoch FROM now()) * 1000000)::bigint;
  v_rows bigint;
BEGIN
  -- As durable as a routine update: a challenge lost to a crash is only
  -- unknown when answered.
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM pg_advisory_xact_lock(hashtext(p_node_id));
  -- The requester's outstanding challenges beyond its bound, oldest first.
  DELETE FROM challenges WHERE challenge_id IN (
    SELECT c.challenge_id FROM challenges c
    WHERE c.node_id = p_node_id AND c.requester = p_requester AND (c.expires_at > v_now AND NOT EXISTS (
          SELECT 1 FROM challenge_redemptions r WHERE r.challenge_id = c.challenge_id))
    ORDER BY c.challenge_id DESC OFFSET p_max_outstanding - 1);
  LOOP
    SELECT count(*) INTO v_rows FROM challenges c WHERE c.node_id = p_node_id;
    EXIT WHEN v_rows < p_max_per_node;
    -- Full: a remembered (redeemed or expired) one first, oldest first...
    DELETE FROM challenges WHERE challenge_id = (
      SELECT c.challenge_id FROM challenges c
      WHERE c.node_id = p_node_id AND NOT (c.expires_at > v_now AND NOT EXISTS (
          SELECT 1 FROM challenge_redemptions r WHERE r.challenge_id = c.challenge_id))
      ORDER BY c.challenge_id LIMIT 1);
    CONTINUE WHEN FOUND;
    -- ...else the oldest of the requester holding the most outstanding.
    DELETE FROM challenges WHERE challenge_id = (
      SELECT c.challenge_id FROM challenges c
      WHERE c.node_id = p_node_id AND (c.expires_at > v_now AND NOT EXISTS (
          SELECT 1 FROM challenge_redemptions r WHERE r.challenge_id = c.challenge_id)) AND c.requester = (
        SELECT c.requester FROM challenges c
        WHERE c.node_id = p_node_id AND (c.expires_at > v_now AND NOT EXISTS (
          SELECT 1 FROM challenge_redemptions r WHERE r.challenge_id = c.challenge_id))
        GROUP BY c.requester ORDER BY count(*) DESC, min(c.challenge_id) LIMIT 1)
      ORDER BY c.challenge_id LIMIT 1);
    IF NOT FOUND THEN
      RAISE EXCEPTION 'challenges: a full node with nothing to evict' USING ERRCODE = 'XX000';
    END IF;
  END LOOP;
  INSERT INTO challenges(nonce, node_id, requester, expires_at)
  VALUES (p_nonce, p_node_id, p_requester, v_now + p_lifetime_us);
  RETURN v_now + p_lifetime_us;
END
$$;

-- 0 unknown, 1 valid, 2 expired, 3 reused (ChallengeRedemption). The
-- redemption is an insert under the primary key: of redemptions at once,
-- one inserts and the others find it there.
CREATE FUNCTION attest_service_redeem_challenge(p_node_id text, p_nonce bytea)
RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_now bigint := (extract(epoch FROM now()) * 1000000)::bigint;
  v_id bigint;
  v_expired boolean;
BEGIN
  SELECT c.challenge_id, c.expires_at <= v_now INTO v_id, v_expired
  FROM challenges c WHERE c.node_id = p_node_id AND c.nonce = p_nonce;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  INSERT INTO challenge_redemptions(challenge_id, redeemed_at) VALUES (v_id, v_now)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN 3;
  END IF;
  RETURN CASE WHEN v_expired THEN 2 ELSE 1 END;
END
$$;
)sql",
    R"sql(
-- The verifiers mint challenge nonces that name their node and expiry
-- under a shared key (api/challenge_nonce.h): issued ones are not stored,
-- answered ones are, once, under the nonce.
DROP FUNCTION attest_service_record_challenge(text, bytea, text, bigint, bigint, bigint);
DROP FUNCTION attest_service_redeem_challenge(text, bytea);
DROP TABLE challenge_redemptions;
DROP TABLE challenges;
CREATE TABLE answered_challenges(
  nonce bytea PRIMARY KEY CHECK (length(nonce) = 32),
  node_id text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX answered_challenges_by_expiry ON answered_challenges(expires_at);
-- Answers of nonces expiring before this were pruned: such a nonce is
-- expired whatever the clock reads later (should it step back).
CREATE TABLE answered_challenges_horizon(
  id boolean PRIMARY KEY CHECK (id),
  pruned_before bigint NOT NULL
);

-- Answering one is an insert in the statement that needs it
-- (postgres_challenge.cpp).
-- Called by a routine update that answered a challenge and then found its
-- node changed: the statement, its own transaction, rolls back, the answer
-- with it (the client reads why; postgres_writes.cpp).
CREATE FUNCTION attest_service_abandon_answer(p_node_id text) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'node % changed since it was read', p_node_id USING ERRCODE = 'AT409';
END
$$;
)sql",
};

static_assert(kPostgresServiceMigrations.size() ==
                  static_cast<std::size_t>(kPostgresServiceSchemaVersion),
              "kPostgresServiceSchemaVersion must name the last migration");

constexpr pg::SchemaMigrations kServiceSchema{"service", "service_schema_migrations",
                                              kPostgresServiceMigrations, "the verifier"};

}  // namespace

Status PreparePostgresSchema(pg::Connection& connection, bool create) {
  ATTEST_ASSIGN_OR_RETURN(pg::Transaction transaction, pg::Transaction::Begin(connection));
  ATTEST_RETURN_IF_ERROR(connection.Execute("lock the service schema",
                                            "SELECT pg_advisory_xact_lock($1)",
                                            {Param::Int64(kSchemaLockKey)}));
  ATTEST_ASSIGN_OR_RETURN(std::optional<std::int64_t> applied,
                          pg::AppliedSchemaVersion(connection, kServiceSchema));
  if (!applied && !create) {
    return MakeError(ErrorCode::kNotFound,
                     "the database holds no verifier service schema (`verifier init` creates it)");
  }
  ATTEST_RETURN_IF_ERROR(pg::ApplySchemaMigrations(connection, kServiceSchema, applied));
  return transaction.Commit();
}

Status CreatePostgresSchemaInTransaction(pg::Connection& connection) {
  ATTEST_RETURN_IF_ERROR(connection.Execute("lock the service schema",
                                            "SELECT pg_advisory_xact_lock($1)",
                                            {Param::Int64(kSchemaLockKey)}));
  ATTEST_ASSIGN_OR_RETURN(std::optional<std::int64_t> applied,
                          pg::AppliedSchemaVersion(connection, kServiceSchema));
  if (applied) {
    return MakeError(ErrorCode::kAlreadyExists,
                     "the database already holds a verifier service schema (version " +
                         std::to_string(*applied) + ")");
  }
  return pg::ApplySchemaMigrations(connection, kServiceSchema, std::nullopt);
}

// The tables kPostgresServiceMigrations creates: a migration that adds one adds it here
// too (the migrate tests compare these with the database).
std::vector<std::string> PostgresServiceTables() {
  return {"service_schema_migrations",
          "nodes",
          "enrollments",
          "certificates",
          "tokens",
          "policies",
          "crl_number",
          "ledger_outbox",
          "ledger_drain",
          "answered_challenges",
          "answered_challenges_horizon"};
}

std::string DropPostgresServiceSql() {
  std::string sql = "DROP TABLE IF EXISTS ";
  const std::vector<std::string> tables = PostgresServiceTables();
  for (std::size_t i = 0; i < tables.size(); ++i) sql += (i == 0 ? "" : ", ") + tables[i];
  return sql + ";\nDROP FUNCTION IF EXISTS attest_service_abandon_answer(text);\n";
}

}  // namespace attest::service::internal
