// Commit's body: every write of one StoreChange, run inside the writer's
// BEGIN IMMEDIATE transaction, so a failing check anywhere (a stale node
// version, a policy serial that does not increase, a malformed record)
// rolls all of it back.
#include <algorithm>
#include <chrono>

#include "attest/json.h"
#include "attest/ledger/entry.h"

#include "src/store/fields.h"
#include "src/store/sqlite_internal.h"

namespace attest::service::internal {
namespace {

// Room left in a ledger payload for the "outbox_id" member the writer adds.
constexpr std::size_t kOutboxIdRoom = 64;

// "a = excluded.a, b = excluded.b, ..." for every column but node_id.
std::string UpdateFromExcluded(std::string_view columns) {
  std::string out;
  while (!columns.empty()) {
    std::size_t comma = columns.find(',');
    std::string_view column = columns.substr(0, comma);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    if (column != "node_id") {
      if (!out.empty()) out += ", ";
      out += std::string(column) + " = excluded." + std::string(column);
    }
    columns = comma == std::string_view::npos ? std::string_view() : columns.substr(comma + 1);
  }
  return out;
}

std::string Placeholders(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

Status WriteNode(Connection& writer, const NodeRecord& node) {
  if (node.version < 0 || node.version == kMaxInt64) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "node.version: " + std::to_string(node.version) + " is out of range");
  }
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * read,
                          writer.Prepared("SELECT version FROM nodes WHERE node_id = ?"));
  ResetOnExit reset_read(*read);
  ATTEST_RETURN_IF_ERROR(read->BindText(1, node.node_id));
  ATTEST_ASSIGN_OR_RETURN(bool found, read->Step());
  const std::int64_t stored = found ? read->ColumnInt64(0) : 0;
  if (node.version != stored) {
    return MakeError(ErrorCode::kBusy, "node " + node.node_id + " changed since it was read " +
                                           "(version " + std::to_string(node.version) +
                                           ", stored " + std::to_string(stored) +
                                           "); read it again");
  }
  static const std::string kUpsert =
      std::string("INSERT INTO nodes(") + kNodeColumns + ") VALUES (" + Placeholders(22) +
      ") ON CONFLICT(node_id) DO UPDATE SET " + UpdateFromExcluded(kNodeColumns);
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * upsert, writer.Prepared(kUpsert));
  ResetOnExit reset_upsert(*upsert);
  ATTEST_RETURN_IF_ERROR(BindNode(*upsert, node, node.version + 1));
  return upsert->Run();
}

// As WriteNode: the stored version must be the one the caller read.
Status WriteEnrollment(Connection& writer, const EnrollmentRecord& enrollment) {
  if (enrollment.version < 0 || enrollment.version == kMaxInt64) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "enrollment.version: " + std::to_string(enrollment.version) + " is out of range");
  }
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * read,
      writer.Prepared("SELECT version FROM enrollments WHERE enrollment_id = ?"));
  ResetOnExit reset_read(*read);
  ATTEST_RETURN_IF_ERROR(read->BindText(1, enrollment.enrollment_id));
  ATTEST_ASSIGN_OR_RETURN(bool found, read->Step());
  const std::int64_t stored = found ? read->ColumnInt64(0) : 0;
  if (enrollment.version != stored) {
    return MakeError(ErrorCode::kBusy, "enrollment " + enrollment.enrollment_id +
                                           " changed since it was read (version " +
                                           std::to_string(enrollment.version) + ", stored " +
                                           std::to_string(stored) + "); read it again");
  }
  static const std::string kUpsert = std::string("INSERT INTO enrollments(") + kEnrollmentColumns +
                                     ") VALUES (" + Placeholders(12) +
                                     ") ON CONFLICT(enrollment_id) DO UPDATE SET " +
                                     UpdateFromExcluded(kEnrollmentColumns);
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * upsert, writer.Prepared(kUpsert));
  ResetOnExit reset_upsert(*upsert);
  ATTEST_RETURN_IF_ERROR(BindEnrollment(*upsert, enrollment, enrollment.version + 1));
  return upsert->Run();
}

Status CheckPolicySerial(Connection& writer, const PolicyRecord& policy) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * read,
                          writer.Prepared("SELECT max(serial) FROM policies"));
  ResetOnExit reset(*read);
  ATTEST_ASSIGN_OR_RETURN(bool has_row, read->Step());
  if (!has_row || read->ColumnIsNull(0)) return OkStatus();
  const auto current = static_cast<std::uint64_t>(read->ColumnInt64(0));
  if (policy.serial <= current) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "policy serial " + std::to_string(policy.serial) +
                         " does not exceed the current policy's serial " + std::to_string(current) +
                         " (no rollback to an older policy)");
  }
  return OkStatus();
}

Result<std::vector<std::string>> RevokeCertificates(Connection& writer, const StoreChange& change) {
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * update,
      writer.Prepared("UPDATE certificates SET revoked_at = ?, revocation_reason = ? "
                      "WHERE node_id = ? AND revoked_at IS NULL RETURNING serial_hex"));
  ResetOnExit reset(*update);
  Binder bind(*update, "change");
  ATTEST_RETURN_IF_ERROR(bind.Time("revoked_at", change.revoked_at));
  ATTEST_RETURN_IF_ERROR(
      bind.Text("revocation_reason", change.revocation_reason, kMaxShortTextBytes));
  ATTEST_RETURN_IF_ERROR(
      bind.Hex("revoke_certificates_of", *change.revoke_certificates_of, 64, 64));
  std::vector<std::string> serials;
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(bool has_row, update->Step());
    if (!has_row) break;
    serials.emplace_back(update->ColumnText(0));
  }
  std::sort(serials.begin(), serials.end());
  return serials;
}

template <typename Record, typename BindFunction>
Status Insert(Connection& writer, const std::string& sql, const Record& record, BindFunction bind) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * insert, writer.Prepared(sql));
  ResetOnExit reset(*insert);
  ATTEST_RETURN_IF_ERROR(bind(*insert, record));
  return insert->Run();
}

Status QueueEvents(Connection& writer, const std::vector<LedgerEvent>& events,
                   const std::vector<std::string>& payloads) {
  // The store has no clock of its own to be handed; recorded_at is
  // informational (the ledger stamps the entry when it is appended).
  ATTEST_ASSIGN_OR_RETURN(std::int64_t now,
                          TimeToMicros(std::chrono::system_clock::now(), "recorded_at"));
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement * insert,
      writer.Prepared("INSERT INTO ledger_outbox(kind, payload, recorded_at) VALUES (?, ?, ?)"));
  for (std::size_t i = 0; i < events.size(); ++i) {
    ResetOnExit reset(*insert);
    ATTEST_RETURN_IF_ERROR(insert->BindText(1, events[i].kind));
    ATTEST_RETURN_IF_ERROR(insert->BindText(2, payloads[i]));
    ATTEST_RETURN_IF_ERROR(insert->BindInt64(3, now));
    ATTEST_RETURN_IF_ERROR(insert->Run());
  }
  return OkStatus();
}

}  // namespace

// Checks the events before anything is written: an event the ledger would
// refuse must fail its Commit, not block the outbox behind it forever.
Result<std::vector<std::string>> CanonicalPayloads(const std::vector<LedgerEvent>& events) {
  std::vector<std::string> payloads;
  payloads.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const LedgerEvent& event = events[i];
    const std::string where = "events[" + std::to_string(i) + "] (" + event.kind + ")";
    if (Status known = ledger::CheckKindKnown(event.kind); !known.ok()) {
      return known.error().WithContext(where);
    }
    if (!event.payload.is_object()) {
      return MakeError(ErrorCode::kInvalidArgument, where + ": payload is not a JSON object");
    }
    if (event.payload.contains("outbox_id")) {
      return MakeError(ErrorCode::kInvalidArgument,
                       where + ": payload member \"outbox_id\" is reserved for the ledger writer");
    }
    auto canonical = CanonicalJson(event.payload);
    if (!canonical.ok()) return canonical.error().WithContext(where);
    if (canonical->size() > ledger::kMaxPayloadBytes - kOutboxIdRoom) {
      return MakeError(ErrorCode::kInvalidArgument, where + ": payload is " +
                                                        std::to_string(canonical->size()) +
                                                        " bytes, over the ledger's limit");
    }
    payloads.push_back(std::move(canonical).value());
  }
  return payloads;
}

Status ApplyChange(Connection& writer, const StoreChange& change, CommitResult& result) {
  ATTEST_ASSIGN_OR_RETURN(std::vector<std::string> payloads, CanonicalPayloads(change.events));
  if (change.node) ATTEST_RETURN_IF_ERROR(WriteNode(writer, *change.node));
  if (change.enrollment) ATTEST_RETURN_IF_ERROR(WriteEnrollment(writer, *change.enrollment));
  // Revocation first: it concerns the certificates issued before this change.
  if (change.revoke_certificates_of) {
    ATTEST_ASSIGN_OR_RETURN(result.revoked_serials, RevokeCertificates(writer, change));
  }
  for (const CertificateRecord& certificate : change.new_certificates) {
    static const std::string kSql = std::string("INSERT INTO certificates(") + kCertificateColumns +
                                    ") VALUES (" + Placeholders(7) + ")";
    ATTEST_RETURN_IF_ERROR(Insert(writer, kSql, certificate, BindCertificate));
  }
  if (change.token) {
    static const std::string kSql = std::string("INSERT OR REPLACE INTO tokens(") + kTokenColumns +
                                    ") VALUES (" + Placeholders(6) + ")";
    ATTEST_RETURN_IF_ERROR(Insert(writer, kSql, *change.token, BindToken));
  }
  // Checked after the writes above, which it then rolls back with it.
  if (change.policy) {
    ATTEST_RETURN_IF_ERROR(CheckPolicySerial(writer, *change.policy));
    static const std::string kSql = std::string("INSERT INTO policies(") + kPolicyColumns +
                                    ") VALUES (" + Placeholders(4) + ")";
    ATTEST_RETURN_IF_ERROR(Insert(writer, kSql, *change.policy, BindPolicy));
  }
  return QueueEvents(writer, change.events, payloads);
}

}  // namespace attest::service::internal
