// A served SQLite deployment moved to PostgreSQL with `verifier migrate`
// (migrate.h), then served from the copy: the nodes read back as they were,
// a node's cached boot log and its certificates carry over, the CRL number
// goes on from SQLite's, and the ledger keeps its history.
#include <gtest/gtest.h>

#include "attest/file.h"
#include "attest/pg/test_cluster.h"
#include "attest/service/migrate.h"

#include "service_test_support.h"

namespace attest::service::test {
namespace {

class MigratedServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok()) << database_.error();
    ServiceTest::SetUp();  // on SQLite: storage_ stays ""
  }

  // The CRL the service serves now: its number, and its text.
  std::pair<std::uint64_t, std::string> Crl() {
    std::string pem = Expect(200, "GET", "/v1/ca/crl").get<std::string>();
    EXPECT_TRUE(WriteFileAtomically(dir_.File("crl.pem"), pem, 0644).ok());
    auto number = attest::test::RunCommand(
        {"openssl", "crl", "-in", dir_.File("crl.pem"), "-noout", "-crlnumber"});
    auto text = attest::test::RunCommand(
        {"openssl", "crl", "-in", dir_.File("crl.pem"), "-noout", "-text"});
    EXPECT_EQ(number.exit_code, 0) << number.err;
    const std::size_t equals = number.out.find('=');  // "crlNumber=0x05" or "crlNumber=05"
    EXPECT_NE(equals, std::string::npos) << number.out;
    if (equals == std::string::npos) return {0, text.out};
    return {std::stoull(number.out.substr(equals + 1), nullptr, 16), text.out};
  }

  static std::string Upper(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
  }

  pg::test::TestDatabase database_;
};

TEST_F(MigratedServiceTest, TheCopyServesTheNodesTheirCertificatesAndTheLedgerAsTheyWere) {
  const SimulatedNode& kept = *nodes_[0];
  const SimulatedNode& revoked = *nodes_[1];
  const std::string operator_token = MakeToken(Role::kOperator);
  const std::string reader_token = MakeToken(Role::kReader);
  Enroll(kept);
  Bytes nonce = Challenge(kept);
  verifier::Evidence evidence = MakeEvidence(kept, nonce);
  kept.AddCertificateRequest(evidence);
  Json issued = PostEvidence(kept, evidence);
  ASSERT_TRUE(issued.contains("certificate_chain")) << issued.dump();
  Enroll(revoked);
  verifier::Evidence revoked_evidence = MakeEvidence(revoked, Challenge(revoked));
  revoked.AddCertificateRequest(revoked_evidence);
  ASSERT_TRUE(PostEvidence(revoked, revoked_evidence).contains("certificate_chain"));
  Json revoked_now =
      Expect(200, "POST", "/v1/nodes/" + revoked.node_id() + "/revoke", "", operator_token);
  ASSERT_EQ(revoked_now["state"], "revoked");
  ASSERT_EQ(revoked_now["revoked_certificates"].size(), 1u);
  const auto [crl_number_before, crl_before] = Crl();
  ASSERT_GT(crl_number_before, 0u);
  const Json kept_before = Expect(200, "GET", "/v1/nodes/" + kept.node_id(), "", reader_token);
  const Json revoked_before =
      Expect(200, "GET", "/v1/nodes/" + revoked.node_id(), "", reader_token);
  const Json tokens_before = Expect(200, "GET", "/v1/tokens", "", admin_token_);
  const std::vector<std::string> kinds_before = LedgerKinds();

  Close();
  auto summary = MigrateSqliteToPostgres({state_dir_, ""}, database_.url());
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  storage_ = database_.url();
  config_.storage = storage_;
  Open();

  EXPECT_EQ(Expect(200, "GET", "/v1/nodes/" + kept.node_id(), "", reader_token), kept_before);
  EXPECT_EQ(Expect(200, "GET", "/v1/nodes/" + revoked.node_id(), "", reader_token), revoked_before);
  EXPECT_EQ(Expect(200, "GET", "/v1/tokens", "", admin_token_), tokens_before);
  std::vector<std::string> kinds = LedgerKinds();
  ASSERT_GE(kinds.size(), kinds_before.size());
  EXPECT_EQ(std::vector<std::string>(kinds.begin(), kinds.begin() + kinds_before.size()),
            kinds_before);

  // The boot log the verifier verified on SQLite is cached on PostgreSQL.
  EXPECT_EQ(Attest(kept, /*with_boot_log=*/false).value("state", ""), "trusted");
  // A revocation on PostgreSQL: the CRL number goes on, and the CRL lists
  // the certificate revoked on SQLite with the new one.
  Json revoked_later =
      Expect(200, "POST", "/v1/nodes/" + kept.node_id() + "/revoke", "", operator_token);
  ASSERT_EQ(revoked_later["revoked_certificates"].size(), 1u);
  const auto [crl_number_after, crl_after] = Crl();
  EXPECT_GT(crl_number_after, crl_number_before);
  EXPECT_NE(crl_after.find(Upper(revoked_later["revoked_certificates"][0])), std::string::npos)
      << crl_after;
  EXPECT_NE(crl_after.find(Upper(revoked_now["revoked_certificates"][0])), std::string::npos)
      << crl_after;
}

}  // namespace
}  // namespace attest::service::test
