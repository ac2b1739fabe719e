// The CLI's operations on a state directory (operations.h).
#include "attest/service/operations.h"

#include <array>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/ledger/kinds.h"
#include "attest/ledger/ledger.h"
#include "attest/ledger/note.h"
#include "attest/service/config.h"
#include "attest/service/ledger_writer.h"
#include "attest/service/open_store.h"
#include "attest/verifier/certificate_authority.h"

#include "challenge_nonce.h"

namespace attest::service {
namespace {

constexpr std::chrono::seconds kServerCertificateLifetime{std::chrono::hours(24 * 365)};
constexpr std::size_t kMaxPemBytes = 1 << 20;

std::string DefaultOrigin() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
    return "localhost/attest-verifier";
  }
  return std::string(host.data()) + "/attest-verifier";
}

// The directory exists empty (made 0700 here when absent).
Status MakeEmptyDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0) return OkStatus();
  if (errno != EEXIST) return ErrorFromErrno(errno, "create", path);
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return ErrorFromErrno(errno, "open", path);
  bool empty = true;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(dir);
  if (!empty) {
    return MakeError(ErrorCode::kAlreadyExists,
                     path + " exists and is not empty: refusing to initialize over it");
  }
  if (::chmod(path.c_str(), 0700) != 0) return ErrorFromErrno(errno, "chmod", path);
  return OkStatus();
}

Status WriteKeyFile(const std::string& path, std::string_view origin,
                    const Ed25519PrivateKey& key) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes text, ledger::FormatSignerKey(origin, key));
  return CreateSecretFile(path, text.view());
}

Status MakeCa(const InitOptions& options, const StateLayout& layout, TimePoint now) {
  if (options.ca_chain_path.has_value() != options.ca_key_path.has_value()) {
    return MakeError(ErrorCode::kInvalidArgument, "give both the CA chain and its key, or neither");
  }
  if (!options.ca_chain_path) {
    verifier::NewCaOptions ca;
    ca.key_path = layout.ca_key();
    ca.certificate_path = layout.ca_certificate();
    return verifier::CreateSelfSignedCa(ca, now);
  }
  ATTEST_ASSIGN_OR_RETURN(std::string chain, ReadFile(*options.ca_chain_path, kMaxPemBytes));
  ATTEST_ASSIGN_OR_RETURN(SecretBytes key, ReadSecretFile(*options.ca_key_path, kMaxPemBytes));
  ATTEST_RETURN_IF_ERROR(WriteFileAtomically(layout.ca_certificate(), chain, 0644));
  return CreateSecretFile(layout.ca_key(), key.view());
}

// The store and ledger of a deployment, for one operation.
struct Deployment {
  std::unique_ptr<ServiceStore> store;
  std::optional<ledger::Ledger> ledger;
};

Result<Deployment> OpenDeployment(const DeploymentLocation& where, const Clock& clock) {
  const StorageLocation storage = ResolveStorage(where.storage, where.state_dir);
  Deployment deployment;
  auto store = OpenServiceStore(storage, false);
  if (!store.ok()) {
    if (!storage.is_postgres() && store.error().code == ErrorCode::kNotFound) {
      return store.error().WithContext(
          "a deployment whose storage is PostgreSQL is reached with --config (the verifier's "
          "configuration names its database)");
    }
    return store.error();
  }
  deployment.store = std::move(store).value();
  ledger::LedgerOptions options;
  options.clock = &clock;
  ATTEST_ASSIGN_OR_RETURN(ledger::Ledger opened,
                          ledger::Ledger::Open(storage.ledger_db(), options));
  deployment.ledger.emplace(std::move(opened));
  return deployment;
}

// Commits, then drains the outbox (a running service would too; the
// outbox makes either order safe).
Status CommitAndDrain(Deployment& deployment, const StoreChange& change) {
  ATTEST_RETURN_IF_ERROR(deployment.store->Commit(change));
  ATTEST_RETURN_IF_ERROR(DrainLedgerOutbox(*deployment.store, *deployment.ledger));
  return OkStatus();
}

Result<NodeRecord> RequireNode(Deployment& deployment, std::string_view node_id) {
  ATTEST_ASSIGN_OR_RETURN(std::optional<NodeRecord> node, deployment.store->GetNode(node_id));
  if (!node) return MakeError(ErrorCode::kNotFound, "no node " + std::string(node_id));
  return std::move(*node);
}

}  // namespace

Result<std::string> InitStateDirectory(const InitOptions& options, const Clock& clock) {
  const StateLayout layout{options.state_dir};
  const StorageLocation storage = ResolveStorage(options.storage, options.state_dir);
  const TimePoint now = clock.Now();
  const std::string origin =
      options.ledger_origin.empty() ? DefaultOrigin() : options.ledger_origin;
  ATTEST_RETURN_IF_ERROR(ledger::CheckNoteKeyName(origin));
  const bool directory_existed = PathExists(layout.dir);
  ATTEST_RETURN_IF_ERROR(MakeEmptyDirectory(layout.dir));
  ATTEST_ASSIGN_OR_RETURN(Ed25519PrivateKey ledger_key, Ed25519PrivateKey::Generate());
  ledger::LedgerOptions ledger_options;
  ledger_options.clock = &clock;
  // The ledger first: its creation refuses a database that holds one, so a
  // second `init` on a shared database stops before it writes anything.
  auto created =
      ledger::Ledger::Create(storage.ledger_db(), origin, ledger_key.public_key(), ledger_options);
  if (!created.ok()) {
    if (storage.is_postgres() && created.error().code == ErrorCode::kAlreadyExists) {
      if (!directory_existed) ::rmdir(layout.dir.c_str());  // still empty: nothing was written
      return MakeError(ErrorCode::kAlreadyExists,
                       storage.name() +
                           " already holds a verifier's ledger: to add a verifier to that "
                           "deployment, give it a copy of the first one's state directory "
                           "instead of running init");
    }
    return created.error();
  }
  ledger::Ledger ledger = std::move(created).value();
  ATTEST_RETURN_IF_ERROR(WriteKeyFile(layout.ledger_key(), origin, ledger_key));
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<ServiceStore> store, OpenServiceStore(storage, true));
  ATTEST_RETURN_IF_ERROR(WriteFileAtomically(
      layout.dir + "/ledger.pub", ledger::FormatVerifierKey(ledger.checkpoint_key()) + "\n", 0644));

  ATTEST_RETURN_IF_ERROR(MakeCa(options, layout, now));
  ATTEST_ASSIGN_OR_RETURN(
      verifier::CertificateAuthority ca,
      verifier::CertificateAuthority::Load(layout.ca_certificate(), layout.ca_key()));
  std::vector<std::string> names = options.server_names;
  if (names.empty()) names = {"127.0.0.1", "::1", "localhost"};
  ATTEST_ASSIGN_OR_RETURN(
      verifier::IssuedCertificate server,
      ca.IssueServerCertificate(names, layout.tls_key(), kServerCertificateLifetime, now));
  ATTEST_RETURN_IF_ERROR(WriteFileAtomically(layout.tls_certificate(), server.chain_pem, 0644));

  ATTEST_ASSIGN_OR_RETURN(Ed25519PrivateKey webhook_key, Ed25519PrivateKey::Generate());
  ATTEST_RETURN_IF_ERROR(
      WriteKeyFile(layout.webhook_key(), "attest-verifier-webhook", webhook_key));
  ATTEST_RETURN_IF_ERROR(api::CreateChallengeKey(layout.challenge_key()));

  NewToken admin = GenerateToken(Role::kAdmin, "created by verifier init", now);
  StoreChange change;
  change.token = admin.record;
  change.events.push_back({std::string(ledger::kinds::kTokenCreated),
                           {{"token_id", admin.record.token_id},
                            {"role", RoleName(Role::kAdmin)},
                            {"label", admin.record.label}}});
  ATTEST_RETURN_IF_ERROR(store->Commit(change));
  ATTEST_RETURN_IF_ERROR(DrainLedgerOutbox(*store, ledger));
  return admin.token;
}

Result<bool> EnsureChallengeKey(const std::string& state_dir) {
  const StateLayout layout{state_dir};
  Status created = api::CreateChallengeKey(layout.challenge_key());
  if (created.ok()) return true;
  if (created.error().code != ErrorCode::kAlreadyExists) return created.error();
  // One is there: it must be a key (an unreadable or short one fails now,
  // not when the first verifier starts on the database).
  Result<SecretBytes> existing = api::LoadChallengeKey(layout.challenge_key());
  if (!existing.ok()) return existing.error();
  return false;
}

Result<NewToken> CreateToken(const DeploymentLocation& where, Role role, std::string_view label,
                             const Clock& clock) {
  ATTEST_ASSIGN_OR_RETURN(Deployment deployment, OpenDeployment(where, clock));
  NewToken token = GenerateToken(role, label, clock.Now());
  StoreChange change;
  change.token = token.record;
  change.events.push_back(
      {std::string(ledger::kinds::kTokenCreated),
       {{"token_id", token.record.token_id}, {"role", RoleName(role)}, {"label", label}}});
  ATTEST_RETURN_IF_ERROR(CommitAndDrain(deployment, change));
  return token;
}

Status RevokeToken(const DeploymentLocation& where, std::string_view token_id, const Clock& clock) {
  ATTEST_ASSIGN_OR_RETURN(Deployment deployment, OpenDeployment(where, clock));
  ATTEST_ASSIGN_OR_RETURN(std::optional<TokenRecord> token, deployment.store->GetToken(token_id));
  if (!token) return MakeError(ErrorCode::kNotFound, "no token " + std::string(token_id));
  if (token->revoked_at) return OkStatus();
  token->revoked_at = clock.Now();
  StoreChange change;
  change.token = *token;
  change.events.push_back({std::string(ledger::kinds::kTokenRevoked),
                           {{"token_id", token->token_id}, {"role", RoleName(token->role)}}});
  return CommitAndDrain(deployment, change);
}

Status ApproveNode(const DeploymentLocation& where, std::string_view node_id, const Clock& clock) {
  ATTEST_ASSIGN_OR_RETURN(Deployment deployment, OpenDeployment(where, clock));
  ATTEST_ASSIGN_OR_RETURN(NodeRecord node, RequireNode(deployment, node_id));
  if (node.state != NodeState::kPendingApproval && node.state != NodeState::kRevoked) {
    return MakeError(ErrorCode::kInvalidArgument, "node " + node.node_id + " is " +
                                                      std::string(NodeStateName(node.state)) +
                                                      ", not pending approval or revoked");
  }
  const NodeState previous = node.state;
  node.state = NodeState::kEnrolled;
  StoreChange change;
  change.node = node;
  change.events.push_back(
      {std::string(ledger::kinds::kNodeApproved),
       {{"node_id", node.node_id}, {"previous_state", NodeStateName(previous)}}});
  return CommitAndDrain(deployment, change);
}

Status AllowReenroll(const DeploymentLocation& where, std::string_view node_id,
                     std::chrono::seconds window, const Clock& clock) {
  ATTEST_ASSIGN_OR_RETURN(Deployment deployment, OpenDeployment(where, clock));
  ATTEST_ASSIGN_OR_RETURN(NodeRecord node, RequireNode(deployment, node_id));
  node.reenroll_allowed_until = clock.Now() + window;
  StoreChange change;
  change.node = node;
  change.events.push_back(
      {std::string(ledger::kinds::kNodeReenrollAllowed),
       {{"node_id", node.node_id}, {"until", FormatRfc3339Utc(*node.reenroll_allowed_until)}}});
  return CommitAndDrain(deployment, change);
}

}  // namespace attest::service
