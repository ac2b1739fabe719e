// The service database's rows to records and back, every column checked
// (fields.h): node, enrollment, certificate, token, policy, outbox event.
#include <limits>

#include "attest/ledger/entry.h"

#include "src/store/fields.h"
#include "src/store/sqlite_internal.h"

namespace attest::service::internal {
namespace {

constexpr std::int64_t kMinInt64 = std::numeric_limits<std::int64_t>::min();

std::string_view EnrollmentStateName(EnrollmentState state) {
  switch (state) {
    case EnrollmentState::kPending:
      return "pending";
    case EnrollmentState::kActivated:
      return "activated";
    case EnrollmentState::kFailed:
      return "failed";
  }
  return "unknown";
}

std::optional<EnrollmentState> ParseEnrollmentState(std::string_view name) {
  for (EnrollmentState state :
       {EnrollmentState::kPending, EnrollmentState::kActivated, EnrollmentState::kFailed}) {
    if (EnrollmentStateName(state) == name) return state;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> ToU32(std::optional<std::int64_t> value) {
  if (!value) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

std::optional<std::int64_t> FromU32(std::optional<std::uint32_t> value) {
  if (!value) return std::nullopt;
  return static_cast<std::int64_t>(*value);
}

// Node columns 12..15 hold the boot cache: all NULL (none) or all set.
Result<std::optional<BootCache>> ReadBootCache(const SqliteStatement& row, RowReader& reader) {
  int nulls = 0;
  for (int column = 12; column <= 15; ++column) nulls += row.ColumnIsNull(column) ? 1 : 0;
  if (nulls == 4) return std::optional<BootCache>();
  if (nulls != 0) return reader.Corrupt(12, "the boot cache columns are partly NULL");
  BootCache cache;
  ATTEST_ASSIGN_OR_RETURN(std::int64_t reset_count, reader.Int(12, 0, kMaxUint32));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t restart_count, reader.Int(13, 0, kMaxUint32));
  cache.reset_count = static_cast<std::uint32_t>(reset_count);
  cache.restart_count = static_cast<std::uint32_t>(restart_count);
  ATTEST_ASSIGN_OR_RETURN(cache.boot_log_digest, reader.Blob(14, kDigestBytes, kDigestBytes));
  ATTEST_ASSIGN_OR_RETURN(cache.verified_state_json, reader.Text(15, kMaxJsonBytes));
  return std::optional<BootCache>(std::move(cache));
}

// Node columns 18..21 hold the runtime cache: all NULL (none) or all set.
Result<std::optional<RuntimeCache>> ReadRuntimeCache(const SqliteStatement& row,
                                                     RowReader& reader) {
  int nulls = 0;
  for (int column = 18; column <= 21; ++column) nulls += row.ColumnIsNull(column) ? 1 : 0;
  if (nulls == 4) return std::optional<RuntimeCache>();
  if (nulls != 0) return reader.Corrupt(18, "the runtime cache columns are partly NULL");
  RuntimeCache cache;
  ATTEST_ASSIGN_OR_RETURN(std::int64_t reset_count, reader.Int(18, 0, kMaxUint32));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t restart_count, reader.Int(19, 0, kMaxUint32));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t entries, reader.Int(20, 0, kMaxUint32));
  cache.reset_count = static_cast<std::uint32_t>(reset_count);
  cache.restart_count = static_cast<std::uint32_t>(restart_count);
  cache.entries = static_cast<std::uint64_t>(entries);
  ATTEST_ASSIGN_OR_RETURN(cache.verified_state_json, reader.Text(21, kMaxJsonBytes));
  return std::optional<RuntimeCache>(std::move(cache));
}

std::optional<std::int64_t> OptionalNumber(bool present, std::uint64_t value) {
  if (!present) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

// The runtime cache's four columns, in kNodeColumns order.
Status BindRuntimeCache(Binder& bind, const std::optional<RuntimeCache>& cache) {
  const bool held = cache.has_value();
  ATTEST_RETURN_IF_ERROR(bind.OptionalInt("runtime_cache.reset_count",
                                          OptionalNumber(held, held ? cache->reset_count : 0), 0,
                                          kMaxUint32));
  ATTEST_RETURN_IF_ERROR(bind.OptionalInt("runtime_cache.restart_count",
                                          OptionalNumber(held, held ? cache->restart_count : 0), 0,
                                          kMaxUint32));
  ATTEST_RETURN_IF_ERROR(bind.OptionalInt(
      "runtime_cache.entries", OptionalNumber(held, held ? cache->entries : 0), 0, kMaxUint32));
  return bind.OptionalText(
      "runtime_cache.verified_state_json",
      held ? std::optional<std::string>(cache->verified_state_json) : std::nullopt, kMaxJsonBytes);
}

}  // namespace

Result<NodeRecord> ReadNodeRow(const SqliteStatement& row) {
  RowReader reader(row, "nodes", kNodeColumns);
  NodeRecord node;
  ATTEST_ASSIGN_OR_RETURN(node.node_id, reader.Hex(0, 64, 64));
  reader.SetKey(node.node_id);
  ATTEST_ASSIGN_OR_RETURN(node.hostname, reader.Text(1, kMaxHostnameBytes));
  ATTEST_ASSIGN_OR_RETURN(node.ek_public, reader.Blob(2, 1, kMaxTpmPublicBytes));
  ATTEST_ASSIGN_OR_RETURN(node.ek_certificate, reader.OptionalBlob(3, 1, kMaxCertificateDerBytes));
  ATTEST_ASSIGN_OR_RETURN(node.ak_public, reader.Blob(4, 1, kMaxTpmPublicBytes));
  ATTEST_ASSIGN_OR_RETURN(std::string state, reader.Text(5, kMaxShortTextBytes));
  std::optional<NodeState> parsed = ParseNodeState(state);
  if (!parsed) return reader.Corrupt(5, "unknown node state \"" + state + "\"");
  node.state = *parsed;
  ATTEST_ASSIGN_OR_RETURN(node.enrolled_at, reader.Time(6));
  ATTEST_ASSIGN_OR_RETURN(node.last_attestation, reader.OptionalTime(7));
  ATTEST_ASSIGN_OR_RETURN(node.last_verdict_json, reader.Text(8, kMaxJsonBytes));
  ATTEST_ASSIGN_OR_RETURN(auto last_clock, reader.OptionalInt(9, kMinInt64, kMaxInt64));
  if (last_clock)
    node.last_clock = static_cast<std::uint64_t>(*last_clock);  // stored two's complement
  ATTEST_ASSIGN_OR_RETURN(auto reset_count, reader.OptionalInt(10, 0, kMaxUint32));
  ATTEST_ASSIGN_OR_RETURN(auto restart_count, reader.OptionalInt(11, 0, kMaxUint32));
  node.last_reset_count = ToU32(reset_count);
  node.last_restart_count = ToU32(restart_count);
  ATTEST_ASSIGN_OR_RETURN(node.boot_cache, ReadBootCache(row, reader));
  ATTEST_ASSIGN_OR_RETURN(node.reenroll_allowed_until, reader.OptionalTime(16));
  ATTEST_ASSIGN_OR_RETURN(node.version, reader.Int(17, 1, kMaxInt64));
  ATTEST_ASSIGN_OR_RETURN(node.runtime_cache, ReadRuntimeCache(row, reader));
  return node;
}

Status BindNodeRoutineColumns(Binder& bind, const NodeRecord& node) {
  ATTEST_RETURN_IF_ERROR(bind.OptionalTime("last_attestation", node.last_attestation));
  ATTEST_RETURN_IF_ERROR(bind.Text("last_verdict_json", node.last_verdict_json, kMaxJsonBytes));
  std::optional<std::int64_t> last_clock;
  if (node.last_clock) last_clock = static_cast<std::int64_t>(*node.last_clock);
  ATTEST_RETURN_IF_ERROR(bind.OptionalInt("last_clock", last_clock, kMinInt64, kMaxInt64));
  ATTEST_RETURN_IF_ERROR(
      bind.OptionalInt("last_reset_count", FromU32(node.last_reset_count), 0, kMaxUint32));
  ATTEST_RETURN_IF_ERROR(
      bind.OptionalInt("last_restart_count", FromU32(node.last_restart_count), 0, kMaxUint32));
  const std::optional<BootCache>& cache = node.boot_cache;
  ATTEST_RETURN_IF_ERROR(bind.OptionalInt(
      "boot_cache.reset_count",
      cache ? std::optional<std::int64_t>(cache->reset_count) : std::nullopt, 0, kMaxUint32));
  ATTEST_RETURN_IF_ERROR(bind.OptionalInt(
      "boot_cache.restart_count",
      cache ? std::optional<std::int64_t>(cache->restart_count) : std::nullopt, 0, kMaxUint32));
  ATTEST_RETURN_IF_ERROR(
      bind.OptionalBlob("boot_cache.boot_log_digest",
                        cache ? std::optional<Bytes>(cache->boot_log_digest) : std::nullopt,
                        kDigestBytes, kDigestBytes));
  ATTEST_RETURN_IF_ERROR(bind.OptionalText(
      "boot_cache.verified_state_json",
      cache ? std::optional<std::string>(cache->verified_state_json) : std::nullopt,
      kMaxJsonBytes));
  return OkStatus();
}

Status BindNodeRuntimeColumns(Binder& bind, const NodeRecord& node) {
  return BindRuntimeCache(bind, node.runtime_cache);
}

Status BindNode(SqliteStatement& statement, const NodeRecord& node, std::int64_t version) {
  Binder bind(statement, "node");
  ATTEST_RETURN_IF_ERROR(bind.Hex("node_id", node.node_id, 64, 64));
  ATTEST_RETURN_IF_ERROR(bind.Text("hostname", node.hostname, kMaxHostnameBytes));
  ATTEST_RETURN_IF_ERROR(bind.Blob("ek_public", node.ek_public, 1, kMaxTpmPublicBytes));
  ATTEST_RETURN_IF_ERROR(
      bind.OptionalBlob("ek_certificate", node.ek_certificate, 1, kMaxCertificateDerBytes));
  ATTEST_RETURN_IF_ERROR(bind.Blob("ak_public", node.ak_public, 1, kMaxTpmPublicBytes));
  ATTEST_RETURN_IF_ERROR(bind.Text("state", NodeStateName(node.state), kMaxShortTextBytes));
  ATTEST_RETURN_IF_ERROR(bind.Time("enrolled_at", node.enrolled_at));
  ATTEST_RETURN_IF_ERROR(BindNodeRoutineColumns(bind, node));
  ATTEST_RETURN_IF_ERROR(bind.OptionalTime("reenroll_allowed_until", node.reenroll_allowed_until));
  ATTEST_RETURN_IF_ERROR(bind.Int("version", version, 1, kMaxInt64));
  return BindRuntimeCache(bind, node.runtime_cache);
}

Result<EnrollmentRecord> ReadEnrollmentRow(const SqliteStatement& row) {
  RowReader reader(row, "enrollments", kEnrollmentColumns);
  EnrollmentRecord enrollment;
  ATTEST_ASSIGN_OR_RETURN(enrollment.enrollment_id, reader.Hex(0, 32, 32));
  reader.SetKey(enrollment.enrollment_id);
  ATTEST_ASSIGN_OR_RETURN(enrollment.node_id, reader.Hex(1, 64, 64));
  ATTEST_ASSIGN_OR_RETURN(enrollment.hostname, reader.Text(2, kMaxHostnameBytes));
  ATTEST_ASSIGN_OR_RETURN(enrollment.ek_public, reader.Blob(3, 1, kMaxTpmPublicBytes));
  ATTEST_ASSIGN_OR_RETURN(enrollment.ek_certificate,
                          reader.OptionalBlob(4, 1, kMaxCertificateDerBytes));
  ATTEST_ASSIGN_OR_RETURN(enrollment.ak_public, reader.Blob(5, 1, kMaxTpmPublicBytes));
  ATTEST_ASSIGN_OR_RETURN(enrollment.secret_digest, reader.Blob(6, kDigestBytes, kDigestBytes));
  ATTEST_ASSIGN_OR_RETURN(std::string state, reader.Text(7, kMaxShortTextBytes));
  std::optional<EnrollmentState> parsed = ParseEnrollmentState(state);
  if (!parsed) return reader.Corrupt(7, "unknown enrollment state \"" + state + "\"");
  enrollment.state = *parsed;
  ATTEST_ASSIGN_OR_RETURN(enrollment.created_at, reader.Time(8));
  ATTEST_ASSIGN_OR_RETURN(enrollment.expires_at, reader.Time(9));
  ATTEST_ASSIGN_OR_RETURN(std::int64_t failed, reader.Int(10, 0, kMaxUint32));
  enrollment.failed_attempts = static_cast<std::uint32_t>(failed);
  ATTEST_ASSIGN_OR_RETURN(enrollment.version, reader.Int(11, 1, kMaxInt64));
  return enrollment;
}

Status BindEnrollment(SqliteStatement& statement, const EnrollmentRecord& enrollment,
                      std::int64_t version) {
  Binder bind(statement, "enrollment");
  ATTEST_RETURN_IF_ERROR(bind.Hex("enrollment_id", enrollment.enrollment_id, 32, 32));
  ATTEST_RETURN_IF_ERROR(bind.Hex("node_id", enrollment.node_id, 64, 64));
  ATTEST_RETURN_IF_ERROR(bind.Text("hostname", enrollment.hostname, kMaxHostnameBytes));
  ATTEST_RETURN_IF_ERROR(bind.Blob("ek_public", enrollment.ek_public, 1, kMaxTpmPublicBytes));
  ATTEST_RETURN_IF_ERROR(
      bind.OptionalBlob("ek_certificate", enrollment.ek_certificate, 1, kMaxCertificateDerBytes));
  ATTEST_RETURN_IF_ERROR(bind.Blob("ak_public", enrollment.ak_public, 1, kMaxTpmPublicBytes));
  ATTEST_RETURN_IF_ERROR(
      bind.Blob("secret_digest", enrollment.secret_digest, kDigestBytes, kDigestBytes));
  ATTEST_RETURN_IF_ERROR(
      bind.Text("state", EnrollmentStateName(enrollment.state), kMaxShortTextBytes));
  ATTEST_RETURN_IF_ERROR(bind.Time("created_at", enrollment.created_at));
  ATTEST_RETURN_IF_ERROR(bind.Time("expires_at", enrollment.expires_at));
  ATTEST_RETURN_IF_ERROR(bind.Int("failed_attempts", enrollment.failed_attempts, 0, kMaxUint32));
  return bind.Int("version", version, 1, kMaxInt64);
}

Result<CertificateRecord> ReadCertificateRow(const SqliteStatement& row) {
  RowReader reader(row, "certificates", kCertificateColumns);
  CertificateRecord certificate;
  ATTEST_ASSIGN_OR_RETURN(certificate.serial_hex, reader.Hex(0, 1, 40));
  reader.SetKey(certificate.serial_hex);
  ATTEST_ASSIGN_OR_RETURN(certificate.node_id, reader.Hex(1, 64, 64));
  ATTEST_ASSIGN_OR_RETURN(certificate.not_before, reader.Time(2));
  ATTEST_ASSIGN_OR_RETURN(certificate.not_after, reader.Time(3));
  ATTEST_ASSIGN_OR_RETURN(certificate.certificate_pem, reader.Text(4, kMaxCertificatePemBytes));
  if (certificate.certificate_pem.empty()) return reader.Corrupt(4, "is empty");
  ATTEST_ASSIGN_OR_RETURN(certificate.revoked_at, reader.OptionalTime(5));
  ATTEST_ASSIGN_OR_RETURN(certificate.revocation_reason, reader.Text(6, kMaxShortTextBytes));
  return certificate;
}

Status BindCertificate(SqliteStatement& statement, const CertificateRecord& certificate) {
  Binder bind(statement, "certificate");
  // RFC 5280 §4.1.2.2: at most 20 octets.
  ATTEST_RETURN_IF_ERROR(bind.Hex("serial_hex", certificate.serial_hex, 1, 40));
  ATTEST_RETURN_IF_ERROR(bind.Hex("node_id", certificate.node_id, 64, 64));
  ATTEST_RETURN_IF_ERROR(bind.Time("not_before", certificate.not_before));
  ATTEST_RETURN_IF_ERROR(bind.Time("not_after", certificate.not_after));
  if (certificate.certificate_pem.empty()) return bind.Invalid("certificate_pem", "is empty");
  ATTEST_RETURN_IF_ERROR(
      bind.Text("certificate_pem", certificate.certificate_pem, kMaxCertificatePemBytes));
  ATTEST_RETURN_IF_ERROR(bind.OptionalTime("revoked_at", certificate.revoked_at));
  return bind.Text("revocation_reason", certificate.revocation_reason, kMaxShortTextBytes);
}

Result<TokenRecord> ReadTokenRow(const SqliteStatement& row) {
  RowReader reader(row, "tokens", kTokenColumns);
  TokenRecord token;
  ATTEST_ASSIGN_OR_RETURN(token.token_id, reader.Hex(0, 16, 16));
  reader.SetKey(token.token_id);
  ATTEST_ASSIGN_OR_RETURN(std::string role, reader.Text(1, kMaxShortTextBytes));
  std::optional<Role> parsed = ParseRole(role);
  if (!parsed) return reader.Corrupt(1, "unknown role \"" + role + "\"");
  token.role = *parsed;
  ATTEST_ASSIGN_OR_RETURN(token.label, reader.Text(2, kMaxShortTextBytes));
  ATTEST_ASSIGN_OR_RETURN(token.secret_digest, reader.Blob(3, kDigestBytes, kDigestBytes));
  ATTEST_ASSIGN_OR_RETURN(token.created_at, reader.Time(4));
  ATTEST_ASSIGN_OR_RETURN(token.revoked_at, reader.OptionalTime(5));
  return token;
}

Status BindToken(SqliteStatement& statement, const TokenRecord& token) {
  Binder bind(statement, "token");
  ATTEST_RETURN_IF_ERROR(bind.Hex("token_id", token.token_id, 16, 16));
  ATTEST_RETURN_IF_ERROR(bind.Text("role", RoleName(token.role), kMaxShortTextBytes));
  ATTEST_RETURN_IF_ERROR(bind.Text("label", token.label, kMaxShortTextBytes));
  ATTEST_RETURN_IF_ERROR(
      bind.Blob("secret_digest", token.secret_digest, kDigestBytes, kDigestBytes));
  ATTEST_RETURN_IF_ERROR(bind.Time("created_at", token.created_at));
  return bind.OptionalTime("revoked_at", token.revoked_at);
}

Result<PolicyRecord> ReadPolicyRow(const SqliteStatement& row) {
  RowReader reader(row, "policies", kPolicyColumns);
  PolicyRecord policy;
  ATTEST_ASSIGN_OR_RETURN(std::int64_t serial, reader.Int(0, 0, kMaxInt64));
  policy.serial = static_cast<std::uint64_t>(serial);
  reader.SetKey(std::to_string(serial));
  ATTEST_ASSIGN_OR_RETURN(policy.document, reader.Text(1, kMaxJsonBytes));
  ATTEST_ASSIGN_OR_RETURN(policy.envelope, reader.Text(2, kMaxJsonBytes));
  ATTEST_ASSIGN_OR_RETURN(policy.applied_at, reader.Time(3));
  return policy;
}

Status BindPolicy(SqliteStatement& statement, const PolicyRecord& policy) {
  Binder bind(statement, "policy");
  if (policy.serial > static_cast<std::uint64_t>(kMaxInt64)) {
    return bind.Invalid("serial", std::to_string(policy.serial) + " is above 2^63-1");
  }
  ATTEST_RETURN_IF_ERROR(
      bind.Int("serial", static_cast<std::int64_t>(policy.serial), 0, kMaxInt64));
  ATTEST_RETURN_IF_ERROR(bind.Text("document", policy.document, kMaxJsonBytes));
  ATTEST_RETURN_IF_ERROR(bind.Text("envelope", policy.envelope, kMaxJsonBytes));
  return bind.Time("applied_at", policy.applied_at);
}

Result<PendingLedgerEvent> ReadOutboxRow(const SqliteStatement& row) {
  RowReader reader(row, "ledger_outbox", kOutboxColumns);
  PendingLedgerEvent pending;
  ATTEST_ASSIGN_OR_RETURN(pending.outbox_id, reader.Int(0, 1, kMaxInt64));
  reader.SetKey(std::to_string(pending.outbox_id));
  ATTEST_ASSIGN_OR_RETURN(pending.event.kind, reader.Text(1, ledger::kMaxKindBytes));
  if (Status known = ledger::CheckKindKnown(pending.event.kind); !known.ok()) {
    return reader.Corrupt(1, known.error().message);
  }
  ATTEST_ASSIGN_OR_RETURN(std::string payload, reader.Text(2, ledger::kMaxPayloadBytes));
  auto parsed = ParseJsonStrict(payload);
  if (!parsed.ok()) return reader.Corrupt(2, parsed.error().message);
  if (!parsed->is_object()) return reader.Corrupt(2, "is not a JSON object");
  pending.event.payload = std::move(parsed).value();
  ATTEST_ASSIGN_OR_RETURN(pending.recorded_at, reader.Time(3));
  return pending;
}

Result<TrustedNodeTime> ReadTrustedNodeRow(const SqliteStatement& row) {
  RowReader reader(row, "nodes", kTrustedNodeColumns);
  TrustedNodeTime node;
  ATTEST_ASSIGN_OR_RETURN(node.node_id, reader.Hex(0, 64, 64));
  reader.SetKey(node.node_id);
  ATTEST_ASSIGN_OR_RETURN(TimePoint enrolled_at, reader.Time(1));
  ATTEST_ASSIGN_OR_RETURN(std::optional<TimePoint> last_attestation, reader.OptionalTime(2));
  node.last_attested = last_attestation.value_or(enrolled_at);
  ATTEST_ASSIGN_OR_RETURN(node.version, reader.Int(3, 1, kMaxInt64));
  return node;
}

}  // namespace attest::service::internal
