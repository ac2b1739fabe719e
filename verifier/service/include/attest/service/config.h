// `verifier serve --config FILE`: the TOML configuration. Every key is
// documented in verifier/README.md; verifier/examples/verifier.toml uses
// them all. Unknown keys and bad values are errors naming the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/error.h"
#include "attest/service/postgres_store.h"

namespace attest::service {

struct WebhookConfig {
  std::string url;                       // https://... (http:// only for 127.0.0.1/::1)
  std::optional<std::string> ca_bundle;  // PEM to verify the receiver; system store otherwise
};

struct RateLimitConfig {
  double per_second = 5;  // sustained requests per client address / per node
  double burst = 20;
};

struct ServiceConfig {
  std::string listen = "127.0.0.1:8443";
  std::string state_dir;  // required
  // Where the service store and the ledger live: "" for service.db and
  // ledger.db in state_dir (SQLite, one verifier); an absolute directory for
  // those files elsewhere; or a postgresql:// URL (no password in it: a
  // passfile or the environment) for one database several verifiers share.
  std::string storage;
  // [tls]
  std::vector<std::string> server_names;  // SANs of the server certificate (init)
  std::optional<std::string> client_ca;   // mutual TLS for orchestrators
  // [enrollment]
  std::optional<std::string> tpm_ca_bundle;  // PEM certificates + CRLs
  std::optional<std::string> ek_allowlist;   // file of node_ids, one per line
  bool require_approval = false;
  std::chrono::seconds enrollment_lifetime{300};
  // [policy]
  std::optional<std::string> policy_file;  // applied at first start (serial 0)
  std::vector<std::string> policy_keys;    // signer public keys allowed to sign policies
  std::vector<std::string> approval_keys;  // signer public keys whose approvals count
  // How long a trusted verdict stands without a new one; 0: derived from
  // the policy, max(3 x interval, interval + nonce lifetime + 30 s).
  std::chrono::seconds trust_max_age{0};
  // [certificates]
  bool allow_file_keys = false;  // issue for a CSR without TPM2_Certify proof
  std::chrono::seconds crl_validity{std::chrono::hours(24)};
  // [limits]
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 64;  // one client cannot hold them all
  std::size_t max_body_bytes = 17 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // Unset: by the storage (ServingThreads).
  std::optional<unsigned> threads;
  RateLimitConfig rate_limit;
  // [proxy_protocol]: load balancers (addresses or CIDR prefixes) whose
  // connections begin with a PROXY protocol v2 header naming the client.
  std::vector<std::string> trusted_proxies;
  // [[webhooks]]
  std::vector<WebhookConfig> webhooks;
  // Not read from the file. PostgreSQL: how long the store sees no sign of
  // another writer before it mints challenges from the rows it last knew
  // (solo mode, postgres_store.h). Tests shorten it.
  std::chrono::milliseconds postgres_solo_after = kPostgresSoloAfter;
};

// `name` (the file) starts every message: "verifier.toml: limits.threads: ...".
Result<ServiceConfig> ParseServiceConfig(std::string_view toml_text, std::string_view name);
Result<ServiceConfig> LoadServiceConfig(const std::string& path);

// Where a deployment's two databases are: ServiceConfig::storage resolved.
struct StorageLocation {
  std::string postgres_url;  // set: both in this PostgreSQL database
  std::string sqlite_dir;    // otherwise: service.db and ledger.db in this directory
  bool is_postgres() const { return !postgres_url.empty(); }
  // The SQLite file, or the URL; what OpenServiceStore and Ledger::Open take.
  std::string service_db() const {
    return is_postgres() ? postgres_url : sqlite_dir + "/service.db";
  }
  std::string ledger_db() const { return is_postgres() ? postgres_url : sqlite_dir + "/ledger.db"; }
  // For messages: the directory or the URL (which never holds a password).
  const std::string& name() const { return is_postgres() ? postgres_url : sqlite_dir; }
};
// `storage` as ServiceConfig::storage reads ("" is state_dir).
StorageLocation ResolveStorage(const std::string& storage, const std::string& state_dir);

// The threads serving requests: limits.threads, or when it is unset 2 with
// SQLite, and with PostgreSQL twice `cores` within 4..16. A request on
// PostgreSQL waits on its round trips and its commit's WAL flush with its
// thread held, so twice the cores keep them busy (measured: README's
// benchmark section); each thread holds a database connection, and 16 keep
// two verifiers within PostgreSQL's default max_connections of 100.
unsigned ServingThreads(const ServiceConfig& config, unsigned cores);

// Where `verifier init` puts things inside the state directory.
struct StateLayout {
  std::string dir;
  std::string ledger_key() const { return dir + "/ledger.key"; }    // Ed25519 secret, 0600
  std::string webhook_key() const { return dir + "/webhook.key"; }  // Ed25519 secret, 0600
  // The HMAC key of challenge nonces (32 bytes, 0600), the same file at
  // every verifier on one database.
  std::string challenge_key() const { return dir + "/challenge.key"; }
  std::string ca_certificate() const { return dir + "/ca.pem"; }  // chain, CA first
  std::string ca_key() const { return dir + "/ca.key"; }
  std::string tls_certificate() const { return dir + "/tls.pem"; }
  std::string tls_key() const { return dir + "/tls.key"; }
};

}  // namespace attest::service
