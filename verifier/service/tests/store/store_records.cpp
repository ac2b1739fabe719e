// Records for the store's tests, see store_records.h.
#include "tests/store/store_records.h"

#include <cstdio>

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

Bytes ChallengeNonce(int n) {
  Bytes nonce(32, 0x5a);
  for (std::size_t i = 0; i < 4; ++i) {
    nonce[i] = static_cast<std::uint8_t>(static_cast<unsigned>(n) >> (8 * i));
  }
  return nonce;
}

void ExpectSameNode(const NodeRecord& a, const NodeRecord& b) {
  EXPECT_EQ(a.node_id, b.node_id);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.ek_public, b.ek_public);
  EXPECT_EQ(a.ek_certificate, b.ek_certificate);
  EXPECT_EQ(a.ak_public, b.ak_public);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.enrolled_at, b.enrolled_at);
  EXPECT_EQ(a.last_attestation, b.last_attestation);
  EXPECT_EQ(a.last_verdict_json, b.last_verdict_json);
  EXPECT_EQ(a.last_clock, b.last_clock);
  EXPECT_EQ(a.last_reset_count, b.last_reset_count);
  EXPECT_EQ(a.last_restart_count, b.last_restart_count);
  ASSERT_EQ(a.boot_cache.has_value(), b.boot_cache.has_value());
  if (a.boot_cache) {
    EXPECT_EQ(a.boot_cache->reset_count, b.boot_cache->reset_count);
    EXPECT_EQ(a.boot_cache->restart_count, b.boot_cache->restart_count);
    EXPECT_EQ(a.boot_cache->boot_log_digest, b.boot_cache->boot_log_digest);
    EXPECT_EQ(a.boot_cache->verified_state_json, b.boot_cache->verified_state_json);
  }
  ASSERT_EQ(a.runtime_cache.has_value(), b.runtime_cache.has_value());
  if (a.runtime_cache) {
    EXPECT_EQ(a.runtime_cache->reset_count, b.runtime_cache->reset_count);
    EXPECT_EQ(a.runtime_cache->restart_count, b.runtime_cache->restart_count);
    EXPECT_EQ(a.runtime_cache->entries, b.runtime_cache->entries);
    EXPECT_EQ(a.runtime_cache->verified_state_json, b.runtime_cache->verified_state_json);
  }
  EXPECT_EQ(a.reenroll_allowed_until, b.reenroll_allowed_until);
}

// What a later trusted attestation of MakeNode(n) changes.
NodeRecord RoutineOf(NodeRecord node, int round) {
  node.last_attestation = At(1'790'001'000 + round);
  node.last_verdict_json = R"({"trusted":true,"round":)" + std::to_string(round) + "}";
  node.last_clock = 5000 + static_cast<std::uint64_t>(round);
  node.last_reset_count = 8;
  node.last_restart_count = 2;
  node.boot_cache = BootCache{8, 2, Bytes(32, static_cast<std::uint8_t>(round)),
                              R"({"round":)" + std::to_string(round) + "}"};
  node.runtime_cache = RuntimeCache{8, 2, 100 + static_cast<std::uint64_t>(round),
                                    R"({"runtime_round":)" + std::to_string(round) + "}"};
  return node;
}

void ExpectRoutineFields(const NodeRecord& read, const NodeRecord& written) {
  EXPECT_EQ(read.last_attestation, written.last_attestation);
  EXPECT_EQ(read.last_verdict_json, written.last_verdict_json);
  EXPECT_EQ(read.last_clock, written.last_clock);
  EXPECT_EQ(read.last_reset_count, written.last_reset_count);
  EXPECT_EQ(read.last_restart_count, written.last_restart_count);
  ASSERT_TRUE(read.boot_cache.has_value());
  ASSERT_TRUE(written.boot_cache.has_value());
  EXPECT_EQ(read.boot_cache->reset_count, written.boot_cache->reset_count);
  EXPECT_EQ(read.boot_cache->restart_count, written.boot_cache->restart_count);
  EXPECT_EQ(read.boot_cache->boot_log_digest, written.boot_cache->boot_log_digest);
  EXPECT_EQ(read.boot_cache->verified_state_json, written.boot_cache->verified_state_json);
  ASSERT_TRUE(read.runtime_cache.has_value());
  ASSERT_TRUE(written.runtime_cache.has_value());
  EXPECT_EQ(read.runtime_cache->reset_count, written.runtime_cache->reset_count);
  EXPECT_EQ(read.runtime_cache->restart_count, written.runtime_cache->restart_count);
  EXPECT_EQ(read.runtime_cache->entries, written.runtime_cache->entries);
  EXPECT_EQ(read.runtime_cache->verified_state_json, written.runtime_cache->verified_state_json);
}

NodeRecord MustRead(ServiceStore& store, const std::string& node_id) {
  auto read = store.GetNode(node_id);
  EXPECT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_TRUE(read.ok() && read->has_value());
  return read.ok() && read->has_value() ? **read : NodeRecord{};
}

}  // namespace attest::service::test
