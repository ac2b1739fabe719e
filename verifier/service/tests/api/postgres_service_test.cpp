// The service on PostgreSQL (issue 14), in-process: verifiers are Service
// instances, each over its own copy of the state directory (the key files
// every verifier shares) and one database on this binary's private cluster
// (pg/testing). The multi-process runs (`verifier serve` twice, SIGKILL)
// are in the postgres end-to-end tests.
#include <algorithm>
#include <barrier>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/ledger/kinds.h"
#include "attest/ledger/ledger.h"
#include "attest/pg/test_cluster.h"
#include "attest/service/operations.h"
#include "attest/service/postgres_store.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

class PostgresServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok()) << database_.error();
    storage_ = database_.url();
    ServiceTest::SetUp();
  }

  // Another verifier on the same database: a copy of the state directory.
  std::unique_ptr<Service> OpenAnother() {
    const std::string copy = dir_.File("state-" + std::to_string(++copies_));
    std::filesystem::copy(state_dir_, copy, std::filesystem::copy_options::recursive);
    ServiceConfig config = config_;
    config.state_dir = copy;
    auto opened = Service::Open(config, clock_);
    EXPECT_TRUE(opened.ok()) << opened.error().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  // A request straight to `service`, as the HTTPS server hands it over.
  static http::Response Post(Service& service, const std::string& target, const std::string& body) {
    http::Request request;
    request.method = "POST";
    request.target = target;
    request.path = target;
    request.body = body;
    request.client_address = "127.0.0.1";
    http::Response response = service.Handle(request);
    ExpectFollowsContract("POST", target, response.status, response.content_type, response.body);
    return response;
  }

  // service_ reopened solo from its first look (no quiet period), with the
  // trusted node's row the one it wrote last; and a store no verifier serves
  // through, a writer solo mode cannot see (as the CLI's, or a hand edit).
  struct UnseenWriter {
    std::unique_ptr<ServiceStore> store;  // null after a failure
    NodeRecord row;                       // the node's, as stored
  };
  UnseenWriter SoloWithTheNodesRowAndAnUnseenWriter(const SimulatedNode& node) {
    Close();
    config_.postgres_solo_after = std::chrono::milliseconds(0);
    Open();
    Enroll(node);
    Attest(node);         // trusted: a state change, the row read again next
    Attest(node, false);  // a routine update: the row service_ wrote is the one it knows
    auto unseen = OpenPostgresServiceStore(storage_, false);
    EXPECT_TRUE(unseen.ok()) << unseen.error().ToString();
    if (!unseen.ok()) return {};
    auto row = (*unseen)->GetNode(node.node_id());
    EXPECT_TRUE(row.ok() && row->has_value());
    if (!row.ok() || !row->has_value()) return {};
    return {std::move(unseen).value(), std::move(**row)};
  }

  static NodeRecord MustGet(ServiceStore& store, const std::string& node_id) {
    auto read = store.GetNode(node_id);
    EXPECT_TRUE(read.ok() && read->has_value());
    return read.ok() && read->has_value() ? **read : NodeRecord{};
  }

  pg::test::TestDatabase database_;
  int copies_ = 0;
};

TEST_F(PostgresServiceTest, ANodeEnrollsAndAttestsTrustedWithBothStoresInTheDatabase) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Json verdict = Attest(node);
  EXPECT_EQ(verdict.value("state", ""), "trusted") << verdict.dump();
  std::vector<std::string> kinds = LedgerKinds();
  EXPECT_NE(std::ranges::find(kinds, ledger::kinds::kNodeEnrolled), kinds.end());
  EXPECT_NE(std::ranges::find(kinds, ledger::kinds::kNodeTrusted), kinds.end());
  EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/service.db"));
  EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/ledger.db"));
}

// verifier/examples/postgres-roles.sql, as the README gives it: its runtime
// role serves (enrollment, attestation, a certificate, ledger appends and
// checkpoints), and cannot change or remove a ledger row, write the schema
// versions, or alter a table, which the owner (here the cluster's
// superuser, who ran init) keeps.
TEST_F(PostgresServiceTest, TheExampleRuntimeRoleServesAndCannotRewriteTheLedger) {
  auto owner = pg::Connection::Open(storage_);
  ASSERT_TRUE(owner.ok()) << owner.error().ToString();
  ASSERT_TRUE(owner
                  ->ExecuteScript("create the role",
                                  "DO $$ BEGIN CREATE ROLE attest_verifier LOGIN; "
                                  "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
                  .ok());
  Status granted = owner->ExecuteScript("postgres-roles.sql",
                                        attest::test::ReadText(VERIFIER_POSTGRES_ROLES_SQL));
  ASSERT_TRUE(granted.ok()) << granted.error().ToString();
  const std::string runtime_url =
      storage_.substr(0, storage_.find("user=")) + "user=attest_verifier";
  ASSERT_NE(runtime_url, storage_);

  Close();
  config_.storage = runtime_url;
  Open();
  ASSERT_TRUE(service_);
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  EXPECT_EQ(Attest(node).value("state", ""), "trusted");
  const Bytes nonce = Challenge(node);
  verifier::Evidence evidence = MakeEvidence(node, nonce, /*with_boot_log=*/true);
  node.AddCertificateRequest(evidence);
  http::Response issued =
      Post(*service_, "/v1/nodes/" + node.node_id() + "/evidence", EvidenceText(evidence));
  ASSERT_EQ(issued.status, 200) << issued.body;
  EXPECT_NE(issued.body.find("certificate_chain"), std::string::npos) << issued.body;
  const std::string reader = MakeToken(Role::kReader);      // a token row
  Expect(200, "GET", "/v1/ledger/checkpoint", "", reader);  // signed and stored
  std::vector<std::string> kinds = LedgerKinds();
  EXPECT_NE(std::ranges::find(kinds, ledger::kinds::kNodeTrusted), kinds.end());
  EXPECT_NE(std::ranges::find(kinds, ledger::kinds::kCertIssued), kinds.end());
  auto ledger = ledger::Ledger::Open(runtime_url, {.read_only = true});
  ASSERT_TRUE(ledger.ok()) << ledger.error().ToString();
  auto stored = ledger->LatestCheckpoint();
  ASSERT_TRUE(stored.ok() && stored->has_value());

  auto runtime = pg::Connection::Open(runtime_url);
  ASSERT_TRUE(runtime.ok()) << runtime.error().ToString();
  for (const char* forbidden :
       {"UPDATE ledger_entries SET actor = 'someone else' WHERE seq = 1",
        "DELETE FROM ledger_entries WHERE seq = 1", "DELETE FROM ledger_merkle_nodes",
        "DELETE FROM ledger_checkpoints", "TRUNCATE ledger_entries",
        "ALTER TABLE ledger_entries DISABLE TRIGGER USER",
        "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
        "INSERT INTO service_schema_migrations(version) VALUES (99)",
        "DELETE FROM ledger_schema_migrations", "UPDATE ledger_meta SET value = value",
        "CREATE TABLE intruder(x int)"}) {
    Status refused = runtime->ExecuteScript("forbidden", forbidden);
    ASSERT_FALSE(refused.ok()) << "the runtime role may: " << forbidden;
    EXPECT_EQ(refused.error().sqlstate.value_or("").substr(0, 2), "42")
        << forbidden << ": " << refused.error().ToString();
  }
}

TEST_F(PostgresServiceTest, InitRefusesADatabaseThatHoldsAVerifierAlready) {
  InitOptions again;
  again.state_dir = dir_.File("second-init");
  again.storage = storage_;
  auto token = InitStateDirectory(again, clock_);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(token.error().message.find("copy of the first one's state directory"),
            std::string::npos)
      << token.error().message;
  EXPECT_FALSE(std::filesystem::exists(again.state_dir)) << "init left a directory behind";
}

// The CLI's changes reach the database its configuration names; the state
// directory alone names SQLite files, which a PostgreSQL deployment lacks.
TEST_F(PostgresServiceTest, TheCliReachesThePostgresDeploymentThroughItsStorage) {
  auto created =
      CreateToken(DeploymentLocation(state_dir_, storage_), Role::kReader, "cli", clock_);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  Expect(200, "GET", "/v1/nodes", "", created->token);  // the service sees it at once

  auto sqlite = CreateToken(DeploymentLocation(state_dir_), Role::kReader, "cli", clock_);
  ASSERT_FALSE(sqlite.ok());
  EXPECT_EQ(sqlite.error().code, ErrorCode::kNotFound);
  EXPECT_NE(sqlite.error().message.find("--config"), std::string::npos) << sqlite.error().message;
  EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/service.db")) << "no SQLite file made";
}

// Two verifiers starting at once on a fresh deployment both apply the
// configured first policy: one commits it, the other finds it in force, and
// both start.
TEST_F(PostgresServiceTest, TwoVerifiersStartingAtOnceOnAFreshDatabaseBothStart) {
  pg::test::TestDatabase fresh;
  ASSERT_TRUE(fresh.ok()) << fresh.error();
  InitOptions init;
  init.state_dir = dir_.File("fresh");
  init.storage = fresh.url();
  ASSERT_TRUE(InitStateDirectory(init, clock_).ok());
  std::vector<ServiceConfig> configs;
  for (int i = 0; i < 2; ++i) {
    ServiceConfig config = config_;
    config.storage = fresh.url();
    config.state_dir = dir_.File("fresh-" + std::to_string(i));
    std::filesystem::copy(init.state_dir, config.state_dir,
                          std::filesystem::copy_options::recursive);
    configs.push_back(config);
  }
  std::barrier start(2);
  Result<std::unique_ptr<Service>> opened[2] = {MakeError(ErrorCode::kInternal, "not run"),
                                                MakeError(ErrorCode::kInternal, "not run")};
  std::thread starters[2];
  for (int i = 0; i < 2; ++i) {
    starters[i] = std::thread([&, i] {
      start.arrive_and_wait();
      opened[i] = Service::Open(configs[i], clock_);
    });
  }
  for (std::thread& starter : starters) starter.join();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(opened[i].ok()) << i << ": " << opened[i].error().ToString();
    http::Request health;
    health.method = "GET";
    health.target = health.path = "/healthz";
    health.client_address = "127.0.0.1";
    http::Response answer = (*opened[i])->Handle(health);
    EXPECT_EQ(answer.status, 200) << answer.body;
  }
  auto store = OpenPostgresServiceStore(fresh.url(), false);
  ASSERT_TRUE(store.ok());
  auto policy = (*store)->CurrentPolicy();
  ASSERT_TRUE(policy.ok() && policy->has_value());
  auto ledger = ledger::Ledger::Open(fresh.url(), {.read_only = true});
  ASSERT_TRUE(ledger.ok());
  int applied = 0;
  for (std::uint64_t seq = 1; seq <= ledger->Size().value(); ++seq) {
    applied += ledger->Get(seq)->content.kind == ledger::kinds::kPolicyApplied;
  }
  EXPECT_EQ(applied, 1) << "the first policy is applied once";
  for (auto& service : opened) (*service)->Shutdown();
}

// A nonce one verifier issued is answered at another, once: the redemption
// is the database's, not a verifier's memory.
TEST_F(PostgresServiceTest, AChallengeIssuedByOneVerifierIsAcceptedOnceAtAnother) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  std::unique_ptr<Service> other = OpenAnother();
  ASSERT_TRUE(other);
  const Bytes nonce = Challenge(node);  // from service_
  const std::string target = "/v1/nodes/" + node.node_id() + "/evidence";
  const std::string evidence = EvidenceText(MakeEvidence(node, nonce));

  http::Response at_other = Post(*other, target, evidence);
  ASSERT_EQ(at_other.status, 200) << at_other.body;
  http::Response again_here = Post(*service_, target, evidence);
  EXPECT_EQ(again_here.status, 409);
  EXPECT_EQ(ErrorCodeOf(again_here), "NONCE_REUSED");
  http::Response again_there = Post(*other, target, evidence);
  EXPECT_EQ(again_there.status, 409);
  EXPECT_EQ(ErrorCodeOf(again_there), "NONCE_REUSED");
}

// Nonces are minted under the deployment's challenge key: one opens only
// for the node it was issued to, unaltered, and a rejected one is not used
// up (the database never saw it).
TEST_F(PostgresServiceTest, ANonceIsUnknownForAnotherNodeOrAlteredAndStaysValid) {
  ASSERT_GE(nodes_.size(), 2u);
  const SimulatedNode& node = *nodes_[0];
  const SimulatedNode& other_node = *nodes_[1];
  Enroll(node);
  Enroll(other_node);
  const Bytes nonce = Challenge(node);
  http::Response borrowed = Post(*service_, "/v1/nodes/" + other_node.node_id() + "/evidence",
                                 EvidenceText(MakeEvidence(other_node, nonce)));
  EXPECT_EQ(borrowed.status, 409) << borrowed.body;
  EXPECT_EQ(ErrorCodeOf(borrowed), "NONCE_UNKNOWN");
  const std::string target = "/v1/nodes/" + node.node_id() + "/evidence";
  // A later expiry (bytes 12-19) with the tag unchanged.
  Bytes stretched = nonce;
  stretched[12] ^= 0x01;
  http::Response altered = Post(*service_, target, EvidenceText(MakeEvidence(node, stretched)));
  EXPECT_EQ(altered.status, 409) << altered.body;
  EXPECT_EQ(ErrorCodeOf(altered), "NONCE_UNKNOWN");
  http::Response own = Post(*service_, target, EvidenceText(MakeEvidence(node, nonce)));
  EXPECT_EQ(own.status, 200) << own.body;
}

// A verifier holding another challenge key knows none of the deployment's
// nonces; one without a key does not start, and says which file to copy.
TEST_F(PostgresServiceTest, ChallengeKeysMustBeTheSameFileAtEveryVerifier) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  const std::string copy = dir_.File("state-other-key");
  std::filesystem::copy(state_dir_, copy, std::filesystem::copy_options::recursive);
  const StateLayout layout{copy};
  ASSERT_TRUE(std::filesystem::remove(layout.challenge_key()));
  ServiceConfig config = config_;
  config.state_dir = copy;
  auto without_key = Service::Open(config, clock_);
  ASSERT_FALSE(without_key.ok());
  EXPECT_NE(without_key.error().message.find(layout.challenge_key() + " is missing"),
            std::string::npos)
      << without_key.error().message;
  EXPECT_NE(without_key.error().message.find("Copy it from another verifier"), std::string::npos)
      << without_key.error().message;

  ASSERT_TRUE(EnsureChallengeKey(copy).value()) << "made a new, different key";
  auto other = Service::Open(config, clock_);
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  const Bytes nonce = Challenge(node);  // under service_'s key
  const std::string target = "/v1/nodes/" + node.node_id() + "/evidence";
  const std::string evidence = EvidenceText(MakeEvidence(node, nonce));
  http::Response elsewhere = Post(**other, target, evidence);
  EXPECT_EQ(elsewhere.status, 409) << elsewhere.body;
  EXPECT_EQ(ErrorCodeOf(elsewhere), "NONCE_UNKNOWN");
  http::Response here = Post(*service_, target, evidence);
  EXPECT_EQ(here.status, 200) << here.body;
}

// Evidence asking for a certificate, replayed at either verifier, is
// refused NONCE_REUSED and gets no certificate: the node holds the one its
// first answer got.
TEST_F(PostgresServiceTest, AReplayedCertificateRequestIsRefusedAndGetsNoCertificate) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Attest(node);  // trusted: the next evidence is the node's own renewal
  const Bytes nonce = Challenge(node);
  verifier::Evidence evidence = MakeEvidence(node, nonce, /*with_boot_log=*/true);
  node.AddCertificateRequest(evidence);
  const std::string target = "/v1/nodes/" + node.node_id() + "/evidence";
  const std::string text = EvidenceText(evidence);
  http::Response first = Post(*service_, target, text);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("certificate_chain"), std::string::npos) << first.body;
  std::unique_ptr<Service> other = OpenAnother();
  ASSERT_TRUE(other);
  for (Service* service : {service_.get(), other.get()}) {
    http::Response replay = Post(*service, target, text);
    EXPECT_EQ(replay.status, 409) << replay.body;
    EXPECT_EQ(ErrorCodeOf(replay), "NONCE_REUSED");
    EXPECT_EQ(replay.body.find("certificate_chain"), std::string::npos);
  }
  auto store = OpenPostgresServiceStore(storage_, false);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  auto certificates = (*store)->CertificatesOf(node.node_id());
  ASSERT_TRUE(certificates.ok());
  EXPECT_EQ(certificates->size(), 1u);
}

// The same evidence posted to two verifiers at the same instant: the
// database's unique constraint lets exactly one of them accept it.
TEST_F(PostgresServiceTest, TheSameNonceAtTwoVerifiersAtOnceIsAcceptedOnce) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  std::unique_ptr<Service> other = OpenAnother();
  ASSERT_TRUE(other);
  const std::string target = "/v1/nodes/" + node.node_id() + "/evidence";
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    const std::string evidence = EvidenceText(MakeEvidence(node, Challenge(node)));
    std::barrier start(2);
    http::Response answers[2];
    Service* services[2] = {service_.get(), other.get()};
    std::thread racers[2];
    for (int i = 0; i < 2; ++i) {
      racers[i] = std::thread([&, i] {
        start.arrive_and_wait();
        answers[i] = Post(*services[i], target, evidence);
      });
    }
    for (std::thread& racer : racers) racer.join();
    const int accepted = (answers[0].status == 200) + (answers[1].status == 200);
    EXPECT_EQ(accepted, 1) << "round " << round << ": " << answers[0].status << " "
                           << answers[1].status;
    for (const http::Response& answer : answers) {
      if (answer.status != 200) {
        EXPECT_EQ(answer.status, 409) << answer.body;
        EXPECT_EQ(ErrorCodeOf(answer), "NONCE_REUSED");
      }
    }
  }
}

// The database goes away: requests that need it are 503 STORE_UNAVAILABLE
// with Retry-After, nothing is half-written, and once it is back the same
// service carries on without a restart.
TEST_F(PostgresServiceTest, WhileTheDatabaseIsDownRequestsAre503AndTheServiceRecovers) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Attest(node);
  ASSERT_TRUE(database_.cluster().Stop().ok());
  const std::string challenges = "/v1/nodes/" + node.node_id() + "/challenges";
  for (int attempt = 0; attempt < 3; ++attempt) {
    http::Response refused = Post(*service_, challenges, "");
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(ErrorCodeOf(refused), "STORE_UNAVAILABLE");
    EXPECT_TRUE(std::ranges::any_of(
        refused.headers, [](const auto& header) { return header.first == "Retry-After"; }));
  }
  ASSERT_TRUE(database_.cluster().Start().ok());
  http::Response challenge;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    challenge = Post(*service_, challenges, "");
  } while (challenge.status == 503 && std::chrono::steady_clock::now() < give_up);
  ASSERT_EQ(challenge.status, 201) << challenge.body;
  Json verdict = Attest(node, false);
  EXPECT_EQ(verdict.value("state", ""), "trusted") << verdict.dump();
}

// Solo mode (postgres_store.h) at the API: a verifier that is the only one
// on the database mints a node's challenge from the row it last wrote. A
// writer it cannot see (here a store no verifier serves through, as the
// CLI's, or a verifier that lost its session) revokes the node: the one
// stale challenge's evidence, with a certificate request, is refused as
// retryable and gets no certificate, and the next challenge reads the
// revocation.
TEST_F(PostgresServiceTest, ASoloVerifiersStaleChallengeGetsARevokedNodeNoCertificate) {
  const SimulatedNode& node = *nodes_[0];
  UnseenWriter unseen = SoloWithTheNodesRowAndAnUnseenWriter(node);
  ASSERT_TRUE(unseen.store);
  NodeRecord revoked = unseen.row;
  revoked.state = NodeState::kRevoked;
  StoreChange revocation{.node = revoked};
  revocation.revoke_certificates_of = node.node_id();
  revocation.revoked_at = clock_.Now();
  revocation.revocation_reason = "revoked where the solo verifier cannot see";
  ASSERT_TRUE(unseen.store->Commit(revocation).ok());

  const Bytes nonce = Challenge(node);  // from the row before the revocation
  verifier::Evidence evidence = MakeEvidence(node, nonce, /*with_boot_log=*/false);
  node.AddCertificateRequest(evidence);
  const std::string target = "/v1/nodes/" + node.node_id() + "/evidence";
  http::Response refused = Post(*service_, target, EvidenceText(evidence));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(ErrorCodeOf(refused), "BUSY");
  EXPECT_EQ(refused.body.find("certificate_chain"), std::string::npos) << refused.body;

  http::Response challenge = Post(*service_, "/v1/nodes/" + node.node_id() + "/challenges", "");
  EXPECT_EQ(challenge.status, 403) << challenge.body;
  EXPECT_EQ(ErrorCodeOf(challenge), "NODE_REVOKED");
  auto certificates = unseen.store->CertificatesOf(node.node_id());
  ASSERT_TRUE(certificates.ok());
  for (const CertificateRecord& certificate : *certificates) {
    EXPECT_TRUE(certificate.revoked_at.has_value()) << certificate.serial_hex;
  }
  auto stored = unseen.store->GetNode(node.node_id());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->state, NodeState::kRevoked);
  EXPECT_EQ((*stored)->version, revoked.version + 1) << "nothing written since";
}

// The evidence is judged on the row its challenge told the node about, or
// not at all: here an unseen writer dropped the node's cached boot log, the
// solo verifier's challenge (from the row before) let the node leave its
// boot log out, and an operator's read then cached the new row. The answer
// is a retry, not a BOOT_LOG_REQUIRED failure recorded against the node.
TEST_F(PostgresServiceTest, EvidenceIsJudgedOnlyOnTheRowItsChallengeWasMintedFrom) {
  const SimulatedNode& node = *nodes_[0];
  UnseenWriter unseen = SoloWithTheNodesRowAndAnUnseenWriter(node);
  ASSERT_TRUE(unseen.store);
  NodeRecord dropped = unseen.row;
  dropped.boot_cache.reset();
  dropped.runtime_cache.reset();
  ASSERT_TRUE(unseen.store->Commit({.node = dropped}).ok());

  Json challenge = Expect(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  EXPECT_EQ(challenge.value("boot_log_cached", false), true) << "minted from the row before";
  Expect(200, "GET", "/v1/nodes/" + node.node_id(), "", MakeToken(Role::kReader));
  const Bytes nonce = HexDecode(challenge.value("nonce", "")).value();
  http::Response answer = Post(*service_, "/v1/nodes/" + node.node_id() + "/evidence",
                               EvidenceText(MakeEvidence(node, nonce, /*with_boot_log=*/false)));
  EXPECT_EQ(answer.status, 503) << answer.body;
  EXPECT_EQ(ErrorCodeOf(answer), "BUSY");
  http::Response again = Post(*service_, "/v1/nodes/" + node.node_id() + "/evidence",
                              EvidenceText(MakeEvidence(node, nonce, /*with_boot_log=*/false)));
  EXPECT_EQ(again.status, 503) << "the same answer again is refused the same way: " << again.body;
  auto stored = unseen.store->GetNode(node.node_id());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->version, dropped.version + 1) << "nothing recorded";
  EXPECT_EQ((*stored)->state, NodeState::kTrusted);
  Json next = Expect(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  EXPECT_EQ(next.value("boot_log_cached", true), false) << "read afresh";
  Json whole = Attest(node, true);
  EXPECT_EQ(whole.value("state", ""), "trusted") << whole.dump();
}

// Evidence its AK did not sign, against a row taken unasked, makes the solo
// verifier read the row: had another writer re-enrolled the node with a new
// AK, every answer would fail so, and nothing else would correct the row.
// Found changed, the answer is a retry, as for signed evidence.
TEST_F(PostgresServiceTest, UnsignedEvidenceMakesASoloVerifierReadTheRowItMintedFrom) {
  const SimulatedNode& node = *nodes_[0];
  UnseenWriter unseen = SoloWithTheNodesRowAndAnUnseenWriter(node);
  ASSERT_TRUE(unseen.store);
  NodeRecord dropped = unseen.row;
  dropped.boot_cache.reset();
  ASSERT_TRUE(unseen.store->Commit({.node = dropped}).ok());

  const std::string challenges = "/v1/nodes/" + node.node_id() + "/challenges";
  Json stale = Expect(201, "POST", challenges);
  EXPECT_EQ(stale.value("boot_log_cached", false), true) << "minted from the row before";
  verifier::Evidence forged =
      MakeEvidence(node, HexDecode(stale.value("nonce", "")).value(), false);
  forged.signature.back() ^= 1;
  Json refused = PostEvidence(node, forged, 503);  // the row it was minted from changed
  EXPECT_EQ(refused["error"].value("code", ""), "BUSY") << refused.dump();
  Json next = Expect(201, "POST", challenges);
  EXPECT_EQ(next.value("boot_log_cached", true), false) << "read afresh";
}

// Root on a node holds one challenge back while it answers another: the
// held answer names a row the first answer changed. It is asked again
// unjudged (503 BUSY): nothing recorded, its nonce unspent and refused the
// same way again, whatever the evidence says; the node gains nothing it
// would not by staying silent, and its honest answers still count.
TEST_F(PostgresServiceTest, AnAnswerHeldBackPastAnotherIsAskedAgainUnjudged) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Attest(node);
  const Bytes held = Challenge(node);
  const Bytes answered = Challenge(node);
  Json first = PostEvidence(node, MakeEvidence(node, answered, false));
  ASSERT_EQ(first.value("state", ""), "trusted") << first.dump();
  auto store = OpenPostgresServiceStore(storage_, false);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  const NodeRecord after_first = MustGet(**store, node.node_id());

  const std::string target = "/v1/nodes/" + node.node_id() + "/evidence";
  const std::string late = EvidenceText(MakeEvidence(node, held, /*with_boot_log=*/true));
  for (int attempt = 0; attempt < 2; ++attempt) {
    http::Response refused = Post(*service_, target, late);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(ErrorCodeOf(refused), "BUSY");
  }
  const NodeRecord now = MustGet(**store, node.node_id());
  EXPECT_EQ(now.version, after_first.version) << "nothing recorded";
  EXPECT_EQ(now.last_verdict_json, after_first.last_verdict_json);
  auto redeemed = (*store)->RedeemChallenge(
      node.node_id(), held, std::chrono::system_clock::now() + std::chrono::hours(1));
  ASSERT_TRUE(redeemed.ok()) << redeemed.error().ToString();
  EXPECT_EQ(*redeemed, ChallengeRedemption::kValid) << "the held nonce was never spent";
  Json next = Attest(node, false);
  EXPECT_EQ(next.value("state", ""), "trusted") << next.dump();
}

// A refusal is never made on a row the solo verifier did not ask for: a
// node it refused while pending approval, approved with the CLI (which it
// cannot see), gets its challenge at once.
TEST_F(PostgresServiceTest, ANodeApprovedWithTheCliIsChallengedAtOnceByASoloVerifier) {
  Close();
  config_.postgres_solo_after = std::chrono::milliseconds(0);
  config_.require_approval = true;
  Open();
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  const std::string challenges = "/v1/nodes/" + node.node_id() + "/challenges";
  http::Response pending = Post(*service_, challenges, "");
  ASSERT_EQ(pending.status, 403) << pending.body;
  EXPECT_EQ(ErrorCodeOf(pending), "NODE_PENDING_APPROVAL");
  ASSERT_TRUE(ApproveNode(DeploymentLocation(state_dir_, storage_), node.node_id(), clock_).ok());
  http::Response approved = Post(*service_, challenges, "");
  EXPECT_EQ(approved.status, 201) << approved.body;
  Json verdict = Attest(node);
  EXPECT_EQ(verdict.value("state", ""), "trusted") << verdict.dump();
}

// No node can attest while the database is down, so an outage longer than
// the maximum age must not revoke the fleet when it ends: each node gets one
// maximum age from the moment the store is back. Its trust still decays
// after that.
TEST_F(PostgresServiceTest, AnOutageLongerThanTheMaxAgeGivesEachNodeOneMaxAgeAfterIt) {
  const SimulatedNode& node = *nodes_[0];
  Enroll(node);
  Attest(node);
  const std::string target = "/v1/nodes/" + node.node_id();
  ASSERT_TRUE(database_.cluster().Stop().ok());
  clock_.Advance(std::chrono::hours(1));  // far past any max age
  // The background sweep (every second) finds the node due and the store
  // out of reach.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_TRUE(database_.cluster().Start().ok());
  http::Response shown;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    shown = Call("GET", target, "", admin_token_);
  } while (shown.status == 503 && std::chrono::steady_clock::now() < give_up);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(ParseJsonStrict(shown.body).value()["state"], "trusted")
      << "revoked for the database's silence: " << shown.body;

  clock_.Advance(std::chrono::hours(1));  // and now silent for longer than a max age
  Json stale = Expect(200, "GET", target, "", admin_token_);
  EXPECT_EQ(stale["state"], "untrusted") << stale.dump();
}

}  // namespace
}  // namespace attest::service::test
