// Service::Open, Handle and Shutdown: opening the state directory `verifier
// init` made, and routing each request to its handler.
#include "attest/service/service.h"

#include <filesystem>
#include <iostream>
#include <thread>

#include "attest/file.h"
#include "attest/ledger/kinds.h"
#include "attest/service/open_store.h"
#include "attest/signer/public_key.h"

#include "challenge_nonce.h"
#include "context.h"

namespace attest::service {

struct Service::Impl {
  std::unique_ptr<api::Context> context;
  api::Router router;
};

namespace {

constexpr std::size_t kMaxKeyFileBytes = 4096;

Result<std::set<std::string>> LoadAllowlist(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 16 << 20));
  std::set<std::string> ids;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    ++line_number;
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.starts_with('#')) continue;
    if (!api::IsNodeId(line)) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          path + ":" + std::to_string(line_number) + ": not a node id (64 lowercase hex digits)");
    }
    ids.emplace(line);
  }
  return ids;
}

// Each entry a key file (.pub or PEM) or a directory of them (its *.pub and
// *.pem files), as signer::LoadTrustedKeys reads one.
Result<signer::TrustedKeys> LoadKeys(const std::vector<std::string>& paths) {
  signer::TrustedKeys keys;
  for (const std::string& path : paths) {
    std::error_code error;
    if (!std::filesystem::is_directory(path, error)) {
      ATTEST_ASSIGN_OR_RETURN(signer::PublicKeyInfo info, signer::LoadPublicKey(path));
      keys.Add(info);
      continue;
    }
    std::size_t found = 0;
    for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
      const std::string extension = entry.path().extension().string();
      if (!entry.is_regular_file() || (extension != ".pub" && extension != ".pem")) continue;
      ATTEST_ASSIGN_OR_RETURN(signer::PublicKeyInfo info,
                              signer::LoadPublicKey(entry.path().string()));
      keys.Add(info);
      ++found;
    }
    if (error) return MakeError(ErrorCode::kIo, path + ": " + error.message());
    if (found == 0) return MakeError(ErrorCode::kNotFound, path + ": no *.pub or *.pem key in it");
  }
  return keys;
}

Result<ledger::NoteSigner> LoadNoteKey(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes text, ReadSecretFile(path, kMaxKeyFileBytes));
  // The file may end with a newline; the key text does not.
  std::size_t size = text.size();
  while (size > 0 && (text.data()[size - 1] == '\n' || text.data()[size - 1] == '\r')) --size;
  text.Truncate(size);
  return ledger::ParseSignerKey(text).WithContext(path);
}

// The config's policy file becomes the first policy, once.
Status ApplyInitialPolicy(api::Context& context) {
  ATTEST_ASSIGN_OR_RETURN(std::optional<PolicyRecord> current, context.store->CurrentPolicy());
  if (!current && context.config.policy_file) {
    ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(*context.config.policy_file, 1 << 20));
    ATTEST_ASSIGN_OR_RETURN(verifier::Policy policy,
                            verifier::ParsePolicy(text, *context.config.policy_file));
    PolicyRecord record{policy.serial, text, "", context.clock.Now()};
    StoreChange change;
    change.policy = record;
    change.events.push_back({std::string(ledger::kinds::kPolicyApplied),
                             {{"serial", record.serial},
                              {"name", policy.name},
                              {"source", *context.config.policy_file}}});
    Result<CommitResult> committed = context.store->Commit(change);
    if (committed.ok()) {
      current = record;
    } else {
      // Another verifier on the same database, starting at the same time,
      // applied it first: its policy is the one in force.
      ATTEST_ASSIGN_OR_RETURN(current, context.store->CurrentPolicy());
      if (!current) return committed.error();
    }
  }
  if (current) ATTEST_RETURN_IF_ERROR(api::InstallPolicy(context, *current));
  return OkStatus();
}

// Every verifier on the database must hold the same key, so a missing
// one is not made here (a verifier making its own would refuse every
// other's nonces): `verifier init` and `verifier migrate` make it.
Status LoadSharedChallengeKey(api::Context& context) {
  const std::string path = context.layout.challenge_key();
  Result<SecretBytes> key = api::LoadChallengeKey(path);
  if (!key.ok() && key.error().code == ErrorCode::kNotFound) {
    return MakeError(ErrorCode::kNotFound,
                     path +
                         " is missing: every verifier on one PostgreSQL database signs its "
                         "challenges with the same key. Copy it from another verifier's state "
                         "directory; for a deployment made before the file existed, create it "
                         "once, as the service's user, with `(umask 077; head -c 32 /dev/urandom "
                         "> " +
                         path + ")`, and copy it to the others");
  }
  if (!key.ok()) return key.error();
  context.challenge_key.emplace(std::move(key).value());
  // Until it is read, expiries are by this host's clock.
  if (Status measured = api::MeasureDatabaseClock(context); !measured.ok()) {
    std::cerr << "verifier: read the database's clock: " << measured.error().ToString() << "\n";
  }
  return OkStatus();
}

Status OpenParts(api::Context& context) {
  const StateLayout& layout = context.layout;
  // A connection for each serving thread, the trust sweeper and the CLI's
  // kind of one-off caller, so no request waits for another's.
  const int connections =
      static_cast<int>(ServingThreads(context.config, std::thread::hardware_concurrency())) + 2;
  ATTEST_ASSIGN_OR_RETURN(context.store, OpenServiceStore(context.storage, false, connections,
                                                          context.config.postgres_solo_after));
  ledger::LedgerOptions options;
  options.clock = &context.clock;
  ATTEST_ASSIGN_OR_RETURN(ledger::Ledger opened,
                          ledger::Ledger::Open(context.storage.ledger_db(), options));
  context.ledger.emplace(std::move(opened));
  ATTEST_ASSIGN_OR_RETURN(ledger::NoteSigner signer, LoadNoteKey(layout.ledger_key()));
  context.ledger_signer.emplace(std::move(signer));
  if (context.storage.is_postgres()) ATTEST_RETURN_IF_ERROR(LoadSharedChallengeKey(context));
  ATTEST_ASSIGN_OR_RETURN(
      verifier::CertificateAuthority ca,
      verifier::CertificateAuthority::Load(layout.ca_certificate(), layout.ca_key()));
  context.ca.emplace(std::move(ca));
  if (context.config.tpm_ca_bundle) {
    ATTEST_ASSIGN_OR_RETURN(verifier::EkCaBundle bundle,
                            verifier::EkCaBundle::Load(*context.config.tpm_ca_bundle));
    context.ek_bundle.emplace(std::move(bundle));
  }
  if (context.config.ek_allowlist) {
    ATTEST_ASSIGN_OR_RETURN(context.ek_allowlist, LoadAllowlist(*context.config.ek_allowlist));
  }
  ATTEST_ASSIGN_OR_RETURN(context.policy_keys, LoadKeys(context.config.policy_keys));
  ATTEST_ASSIGN_OR_RETURN(context.approval_keys, LoadKeys(context.config.approval_keys));
  ATTEST_ASSIGN_OR_RETURN(ledger::NoteSigner webhook_key, LoadNoteKey(layout.webhook_key()));
  context.webhooks =
      std::make_unique<api::WebhookSender>(context.config.webhooks, std::move(webhook_key.key));
  // Events a crash left in the outbox go into the ledger before anything new.
  api::DrainLedger(context);
  ATTEST_RETURN_IF_ERROR(ApplyInitialPolicy(context));
  api::DrainLedger(context);
  if (auto counts = context.store->CountNodesByState(); counts.ok()) {
    context.metrics.SetNodes(*counts);
  }
  ATTEST_RETURN_IF_ERROR(api::LoadTrustDeadlines(context));
  // Announced before it serves. A solo verifier's look stands a few
  // seconds: one that was solo must know of this one before this one
  // writes a node.
  Result<std::size_t> others = context.store->LookForOtherVerifiers();
  if (!others.ok()) std::cerr << "verifier: " << others.error().ToString() << "\n";
  if (!others.ok() || *others > 0) std::this_thread::sleep_for(kPostgresLookStands);
  // Every second: a stale node turns untrusted within a second of its
  // deadline (and the node listings expire it on read before that).
  context.trust_sweeper =
      std::make_unique<api::TrustSweeper>(context, std::chrono::milliseconds(1000));
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Service>> Service::Open(const ServiceConfig& config, const Clock& clock) {
  auto impl = std::make_unique<Impl>();
  impl->context = std::make_unique<api::Context>(config, clock);
  ATTEST_RETURN_IF_ERROR(OpenParts(*impl->context).WithContext("open " + config.state_dir));
  api::AddEnrollmentRoutes(impl->router, *impl->context);
  api::AddAttestationRoutes(impl->router, *impl->context);
  api::AddNodeRoutes(impl->router, *impl->context);
  api::AddPolicyRoutes(impl->router, *impl->context);
  api::AddLedgerRoutes(impl->router, *impl->context);
  api::AddAdminRoutes(impl->router, *impl->context);
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() { Shutdown(); }

http::Response Service::Handle(const http::Request& request) {
  try {
    return impl_->router.Route(request);
  } catch (const std::exception& exception) {
    std::cerr << "verifier: " << request.method << " " << request.path << ": " << exception.what()
              << "\n";
  } catch (...) {
    std::cerr << "verifier: " << request.method << " " << request.path << ": unknown exception\n";
  }
  return api::ErrorResponse({500, "INTERNAL", "internal error"});
}

std::size_t Service::BodyLimit(std::string_view method, std::string_view path) const {
  return impl_->router.BodyLimit(method, path);
}

http::ServerOptions ServerOptionsFor(const ServiceConfig& config, const Service& service) {
  const StateLayout layout{config.state_dir};
  http::ServerOptions options;
  options.listen = config.listen;
  options.certificate_chain_path = layout.tls_certificate();
  options.private_key_path = layout.tls_key();
  options.client_ca_path = config.client_ca;
  options.max_connections = config.max_connections;
  options.max_connections_per_address = config.max_connections_per_address;
  options.max_body_bytes = config.max_body_bytes;
  options.header_timeout = config.header_timeout;
  options.body_timeout = config.body_timeout;
  options.idle_timeout = config.idle_timeout;
  options.threads = ServingThreads(config, std::thread::hardware_concurrency());
  options.trusted_proxies = config.trusted_proxies;
  options.body_limit = [&service](std::string_view method, std::string_view path) {
    return service.BodyLimit(method, path);
  };
  return options;
}

void Service::Shutdown() {
  if (!impl_ || !impl_->context) return;
  if (impl_->context->trust_sweeper) impl_->context->trust_sweeper->Stop();
  if (impl_->context->webhooks) impl_->context->webhooks->Stop(std::chrono::seconds(5));
  api::DrainLedger(*impl_->context);
}

}  // namespace attest::service
