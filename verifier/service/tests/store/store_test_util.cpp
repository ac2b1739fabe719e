#include "tests/store/store_test_util.h"

#include <cstdio>

#include "attest/sqlite.h"

namespace attest::service::test {

TimePoint At(std::int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

std::string NodeId(int n) {
  char prefix[9];
  std::snprintf(prefix, sizeof(prefix), "%08x", static_cast<unsigned>(n));
  return std::string(prefix) + std::string(56, 'a');
}

NodeRecord MakeNode(int n) {
  NodeRecord node;
  node.node_id = NodeId(n);
  node.hostname = "node-" + std::to_string(n) + ".example";
  node.ek_public = Bytes{0x00, 0x03, 0x01, static_cast<std::uint8_t>(n)};
  node.ek_certificate = Bytes{0x30, 0x82, 0x01, 0x00};
  node.ak_public = Bytes{0x00, 0x02, 0x07, static_cast<std::uint8_t>(n)};
  node.state = NodeState::kTrusted;
  node.enrolled_at = At(1'790'000'000) + std::chrono::microseconds(123456);
  node.last_attestation = At(1'790'000'100);
  node.last_verdict_json = R"({"trusted":true})";
  node.last_clock = 0xfedcba9876543210ULL;  // above INT64_MAX: stored two's complement
  node.last_reset_count = 7;
  node.last_restart_count = 0xffffffffu;
  node.boot_cache = BootCache{7, 1, Bytes(32, 0xab), R"({"pcrs":{}})"};
  node.runtime_cache = RuntimeCache{7, 1, 12, R"({"entries":[]})"};
  node.reenroll_allowed_until = At(1'790'000'200);
  node.version = 0;
  return node;
}

EnrollmentRecord MakeEnrollment(int n) {
  EnrollmentRecord enrollment;
  enrollment.enrollment_id = std::string(31, 'e') + std::to_string(n % 10);
  enrollment.node_id = NodeId(n);
  enrollment.hostname = "node-" + std::to_string(n);
  enrollment.ek_public = Bytes{1, 2, 3};
  enrollment.ek_certificate = std::nullopt;
  enrollment.ak_public = Bytes{4, 5, 6};
  enrollment.secret_digest = Bytes(32, 0x5e);
  enrollment.state = EnrollmentState::kPending;
  enrollment.created_at = At(1'790'000'000);
  enrollment.expires_at = At(1'790'000'300);
  enrollment.failed_attempts = 2;
  return enrollment;
}

CertificateRecord MakeCertificate(const std::string& node_id, const std::string& serial,
                                  TimePoint not_before, TimePoint not_after) {
  CertificateRecord certificate;
  certificate.serial_hex = serial;
  certificate.node_id = node_id;
  certificate.not_before = not_before;
  certificate.not_after = not_after;
  certificate.certificate_pem =
      "-----BEGIN CERTIFICATE-----\n" + serial + "\n-----END CERTIFICATE-----\n";
  return certificate;
}

TokenRecord MakeTokenRecord(int n) {
  TokenRecord token;
  char id[17];
  std::snprintf(id, sizeof(id), "%016x", static_cast<unsigned>(n));
  token.token_id = id;
  token.role = Role::kOperator;
  token.label = "token " + std::to_string(n);
  token.secret_digest = Bytes(32, static_cast<std::uint8_t>(n));
  token.created_at = At(1'790'000'000 + n);
  return token;
}

PolicyRecord MakePolicy(std::uint64_t serial) {
  return PolicyRecord{serial, R"({"serial":)" + std::to_string(serial) + "}",
                      serial == 0 ? "" : R"({"payload":"..."})", At(1'790'000'000)};
}

LedgerEvent MakeEvent(std::string_view kind, int n) {
  return LedgerEvent{std::string(kind), Json{{"node_id", NodeId(n)}, {"n", n}}};
}

void ExecuteSql(const std::string& path, const std::string& sql) {
  auto db = SqliteDatabase::Open(path, SqliteDatabase::OpenMode::kReadWrite);
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  Status done = db->Execute(sql);
  ASSERT_TRUE(done.ok()) << sql << ": " << done.error().ToString();
}

void StoreTest::SetUp() { store_ = Open(true); }

std::unique_ptr<ServiceStore> StoreTest::Open(bool create) {
  auto store = OpenSqliteServiceStore(path_, create);
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

CommitResult StoreTest::MustCommit(const StoreChange& change) {
  auto result = store_->Commit(change);
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  return result.ok() ? std::move(result).value() : CommitResult{};
}

}  // namespace attest::service::test
