#include "two_verifiers.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "attest/pg/pg.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/policy.h"

#include "evidence_factory.h"

namespace attest::service::test {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSelection = "sha256:0-9,14,15";

// What both verifiers read: the same database, their own state directory,
// limits high enough that one test client may speak for a whole fleet.
std::string ConfigToml(const std::string& state_dir, const std::string& storage,
                       const std::string& allowlist, const std::string& policy) {
  return "listen = \"127.0.0.1:0\"\n"
         "state_dir = \"" +
         state_dir + "\"\nstorage = \"" + storage +
         "\"\n"
         "[enrollment]\nek_allowlist = \"" +
         allowlist + "\"\n[policy]\nfile = \"" + policy +
         "\"\n"
         "[limits]\nthreads = 2\nmax_connections_per_address = 1024\n"
         "rate_per_second = 100000\nrate_burst = 100000\n";
}

Result<pg::Connection> OpenDatabase(const std::string& url) { return pg::Connection::Open(url); }

}  // namespace

void TwoVerifiersTest::SetUp() {
  ASSERT_TRUE(database_.ok()) << database_.error();
  measurements_.boot_log = verifier::test::ReadFixture("eventlogs/ovmf-sb-on.bin");
  measurements_.runtime_log = verifier::test::ExampleRuntimeLog(5);
  for (std::size_t i = 0; i < node_count_; ++i) {
    nodes_.push_back(std::make_unique<SimulatedNode>("node-" + std::to_string(i) + ".example",
                                                     measurements_, EkKind::kEccP256));
  }
  // A policy allowing exactly what the simulated nodes show.
  const SimulatedNode& model = *nodes_[0];
  verifier::Evidence sample =
      model.MakeEvidence(Bytes(32, 1), tpm::ParsePcrSelection(kSelection).value());
  verifier::Policy policy = verifier::test::PolicyFor(sample, model.ak().LoadedKey());
  policy.trust_domain = "example.org";
  std::ofstream(dir_.File("policy.json")) << verifier::PolicyToJson(policy).dump(2);
  std::ofstream allowlist(dir_.File("allowlist"));
  for (const auto& node : nodes_) allowlist << node->node_id() << "\n";
  allowlist.close();

  state_dirs_ = {dir_.File("state-a"), dir_.File("state-b")};
  auto init =
      attest::test::RunCommand({VERIFIER_BINARY, "init", "--state-dir", state_dirs_[0], "--storage",
                                database_url(), "--origin", "test/multi-verifier"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ASSERT_TRUE(init.out.starts_with("vt_") && init.out.ends_with("\n")) << init.out;
  admin_token_ = init.out.substr(0, init.out.size() - 1);
  ASSERT_FALSE(fs::exists(state_dirs_[0] + "/service.db")) << "the store is the database";
  ASSERT_FALSE(fs::exists(state_dirs_[0] + "/ledger.db")) << "the ledger is the database";
  // The second verifier gets the same key files, as an operator provisions them.
  std::error_code copied;
  fs::copy(state_dirs_[0], state_dirs_[1], fs::copy_options::recursive, copied);
  ASSERT_FALSE(copied) << copied.message();

  for (std::size_t i = 0; i < kVerifiers; ++i) {
    configs_[i] = dir_.File(i == 0 ? "a.toml" : "b.toml");
    std::ofstream(configs_[i]) << ConfigToml(state_dirs_[i], database_url(), dir_.File("allowlist"),
                                             dir_.File("policy.json"));
  }
  // One after the other: the first applies the policy file, the second finds it.
  for (std::size_t i = 0; i < kVerifiers; ++i) {
    StartVerifier(i);
    if (HasFatalFailure()) return;
  }
}

void TwoVerifiersTest::TearDown() {
  for (std::size_t i = 0; i < kVerifiers; ++i) {
    if (!verifiers_[i]) continue;
    verifiers_[i]->Kill();
    if (HasFailure()) {
      std::cerr << "---- verifier " << (i == 0 ? "A" : "B") << " printed:\n"
                << verifiers_[i]->Output() << "----\n";
    }
    verifiers_[i].reset();
  }
}

void TwoVerifiersTest::StartVerifier(std::size_t index) {
  verifiers_[index].reset();
  auto started = VerifierProcess::Start(VERIFIER_BINARY, configs_[index]);
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  verifiers_[index] = std::move(started).value();
}

http::ClientOptions TwoVerifiersTest::ClientOptionsFor(std::size_t index) const {
  http::ClientOptions options;
  options.port = verifiers_[index] ? verifiers_[index]->port() : 0;
  options.ca_bundle_path = state_dirs_[0] + "/ca.pem";
  options.timeout = std::chrono::seconds(20);
  return options;
}

std::unique_ptr<http::Client> TwoVerifiersTest::Connect(std::size_t index) const {
  auto client = http::Client::Connect(ClientOptionsFor(index));
  EXPECT_TRUE(client.ok()) << client.error().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

std::vector<std::pair<std::string, std::string>> TwoVerifiersTest::AdminHeaders() const {
  return {{"Authorization", "Bearer " + admin_token_}};
}

Result<Json> TwoVerifiersTest::AdminGet(std::size_t index, const std::string& target) const {
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                          http::Client::Connect(ClientOptionsFor(index)));
  ATTEST_ASSIGN_OR_RETURN(http::ClientResponse response, client->Get(target, AdminHeaders()));
  if (response.status != 200) {
    return MakeError(ErrorCode::kIo, "GET " + target + ": HTTP " + std::to_string(response.status) +
                                         " " + response.body);
  }
  return ParseJsonStrict(response.body);
}

void TwoVerifiersTest::EnrollAll() {
  std::array<std::unique_ptr<http::Client>, kVerifiers> clients = {Connect(0), Connect(1)};
  ASSERT_TRUE(clients[0] && clients[1]);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto enrolled = nodes_[i]->Enroll(*clients[i % kVerifiers]);
    ASSERT_TRUE(enrolled.ok()) << "node " << i << ": " << enrolled.error().ToString();
  }
}

Result<std::uint64_t> TwoVerifiersTest::CountRows(const std::string& table) const {
  ATTEST_ASSIGN_OR_RETURN(pg::Connection connection, OpenDatabase(database_url()));
  ATTEST_ASSIGN_OR_RETURN(pg::QueryResult result,
                          connection.Query("count rows", "SELECT count(*) FROM " + table));
  return result.Uint64(0, 0);
}

Result<std::vector<std::string>> TwoVerifiersTest::Column(const std::string& sql) const {
  ATTEST_ASSIGN_OR_RETURN(pg::Connection connection, OpenDatabase(database_url()));
  ATTEST_ASSIGN_OR_RETURN(pg::QueryResult result, connection.Query("read column", sql));
  std::vector<std::string> values;
  for (int row = 0; row < result.rows(); ++row) {
    ATTEST_ASSIGN_OR_RETURN(std::string_view text, result.Text(row, 0));
    values.emplace_back(text);
  }
  return values;
}

Result<std::vector<StoredLedgerEntry>> TwoVerifiersTest::LedgerEntries() const {
  ATTEST_ASSIGN_OR_RETURN(pg::Connection connection, OpenDatabase(database_url()));
  ATTEST_ASSIGN_OR_RETURN(
      pg::QueryResult result,
      connection.Query("read ledger",
                       "SELECT seq, kind, payload FROM ledger_entries ORDER BY seq"));
  std::vector<StoredLedgerEntry> entries;
  for (int row = 0; row < result.rows(); ++row) {
    StoredLedgerEntry entry;
    ATTEST_ASSIGN_OR_RETURN(entry.seq, result.Uint64(row, 0));
    ATTEST_ASSIGN_OR_RETURN(std::string_view kind, result.Text(row, 1));
    ATTEST_ASSIGN_OR_RETURN(std::string_view payload, result.Text(row, 2));
    entry.kind = std::string(kind);
    ATTEST_ASSIGN_OR_RETURN(entry.payload, ParseJsonStrict(payload));
    entries.push_back(std::move(entry));
  }
  return entries;
}

attest::test::CommandResult TwoVerifiersTest::LedgerVerify() const {
  return attest::test::RunCommand(
      {LEDGER_BINARY, "verify", "--db", database_url(), "--key", state_dirs_[0] + "/ledger.pub"});
}

}  // namespace attest::service::test
