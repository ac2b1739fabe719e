// TwoVerifiersTest's checks after a failover run: what the clients were
// told was done is on record, in the store and in the ledger.
#include <map>
#include <set>

#include "two_verifiers.h"

namespace attest::service::test {
namespace {

constexpr std::chrono::seconds kDrainTimeout{15};

std::string StringOf(const Json& object, std::string_view key) {
  const Json* value = object.is_object() ? FindMember(object, key) : nullptr;
  return value != nullptr && value->is_string() ? value->get<std::string>() : "";
}

}  // namespace

void TwoVerifiersTest::DrainAt(std::size_t index, FleetLoadReport& report) {
  std::unique_ptr<http::Client> client = Connect(index);
  ASSERT_TRUE(client);
  // Each token is a commit with a ledger event, after which the verifier
  // drains the outbox: events the killed one committed but never appended
  // go in then, its interrupted batch is finished.
  const bool drained = WaitFor(
      [&] {
        auto created =
            client->Post("/v1/tokens", R"({"role":"reader","label":"drain"})", AdminHeaders());
        if (created.ok() && created->status == 201) {
          if (auto body = ParseJsonStrict(created->body); body.ok()) {
            report.tokens.push_back(StringOf(*body, "token_id"));
          }
        }
        auto pending = CountRows("ledger_outbox");
        auto intent = CountRows("ledger_drain");
        if (pending.ok() && *pending == 0 && intent.ok() && *intent == 0) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return false;
      },
      kDrainTimeout);
  ASSERT_TRUE(drained) << "the ledger outbox did not empty within " << kDrainTimeout.count()
                       << " s at verifier " << index;
}

void TwoVerifiersTest::ExpectOnRecord(const FleetLoadReport& report, std::size_t index) {
  attest::test::CommandResult verified = LedgerVerify();
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  auto entries = LedgerEntries();
  ASSERT_TRUE(entries.ok()) << entries.error().ToString();
  std::set<std::string> issued;         // cert.issued serials
  std::set<std::string> tokens;         // token.created ids
  std::map<std::int64_t, int> drained;  // outbox_id -> times in the ledger
  for (const StoredLedgerEntry& entry : *entries) {
    if (entry.kind == "cert.issued") issued.insert(StringOf(entry.payload, "serial"));
    if (entry.kind == "token.created") tokens.insert(StringOf(entry.payload, "token_id"));
    const Json* outbox_id = FindMember(entry.payload, "outbox_id");
    if (outbox_id != nullptr && outbox_id->is_number_integer()) {
      ++drained[outbox_id->get<std::int64_t>()];
    }
  }
  for (const auto& [outbox_id, times] : drained) {
    EXPECT_EQ(times, 1) << "outbox event " << outbox_id << " is in the ledger " << times
                        << " times";
  }

  // Every certificate and token the store holds has its ledger entry, and
  // every cert.issued entry its certificate: no entry lost, none invented.
  auto stored_serials = Column("SELECT serial_hex FROM certificates");
  ASSERT_TRUE(stored_serials.ok()) << stored_serials.error().ToString();
  EXPECT_EQ(std::set<std::string>(stored_serials->begin(), stored_serials->end()), issued);
  auto stored_tokens = Column("SELECT token_id FROM tokens");
  ASSERT_TRUE(stored_tokens.ok()) << stored_tokens.error().ToString();
  for (const std::string& token : *stored_tokens) {
    EXPECT_TRUE(tokens.contains(token)) << "token " << token << " has no token.created entry";
  }
  const std::set<std::string> in_store(stored_tokens->begin(), stored_tokens->end());

  // What the clients were told.
  EXPECT_FALSE(report.certificates.empty()) << "no certificate was issued under load";
  std::map<std::string, std::set<std::string>> listed;  // node_id -> serials at `index`
  for (const AcknowledgedCertificate& certificate : report.certificates) {
    EXPECT_TRUE(issued.contains(certificate.serial))
        << "certificate " << certificate.serial << " has no cert.issued entry";
    if (!listed.contains(certificate.node_id)) {
      auto node = AdminGet(index, "/v1/nodes/" + certificate.node_id);
      ASSERT_TRUE(node.ok()) << node.error().ToString();
      const Json* certificates = FindMember(*node, "certificates");
      ASSERT_TRUE(certificates != nullptr && certificates->is_array()) << node->dump();
      std::set<std::string>& serials = listed[certificate.node_id];
      for (const Json& listed_certificate : *certificates) {
        serials.insert(StringOf(listed_certificate, "serial"));
      }
    }
    EXPECT_TRUE(listed[certificate.node_id].contains(certificate.serial))
        << "certificate " << certificate.serial << " of " << certificate.node_id
        << " is not listed";
  }
  EXPECT_FALSE(report.tokens.empty()) << "no token was created under load";
  for (const std::string& token : report.tokens) {
    EXPECT_TRUE(in_store.contains(token)) << "token " << token << " is not in the store";
    EXPECT_TRUE(tokens.contains(token)) << "token " << token << " has no token.created entry";
  }
}

}  // namespace attest::service::test
