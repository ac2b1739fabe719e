// The rows of a SQLite service database copied into a new PostgreSQL
// service schema (`verifier migrate`, migrate.cpp), inside transactions the
// caller holds on both. Each row is read with the SQLite store's checked
// reader and written through the binder the PostgreSQL store writes with
// (postgres_relay.cpp), so the copy holds only what the PostgreSQL store
// reads back as the same record. Challenges are not copied: they live for
// minutes, and a node whose challenge is gone asks for a new one.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "attest/service/postgres_store.h"
#include "attest/service/sqlite_store.h"

#include "src/store/fields.h"
#include "src/store/postgres_internal.h"
#include "src/store/sqlite_internal.h"

namespace attest::service::internal {
namespace {

// A new table in either schema is a new row source here: copy it, or say
// why not, before changing these. (PostgreSQL version 2 added functions
// only: the challenges' statements. SQLite 6 and PostgreSQL 3 keep only
// answered challenges, which are not copied: their nonces were minted by
// the SQLite verifier's in-memory book, which no verifier on the new
// database knows.)
static_assert(kServiceSchemaVersion == 6, "copy the tables of the new SQLite schema version");
static_assert(kPostgresServiceSchemaVersion == 3,
              "copy into the tables of the new PostgreSQL schema version");

using pg::Param;

std::string CopyInsertSql(const std::string& table, const char* columns, std::size_t count,
                          const char* overriding = "") {
  std::string sql = "INSERT INTO " + table + "(" + columns + ") " + overriding + "VALUES (";
  for (std::size_t i = 1; i <= count; ++i) sql += (i == 1 ? "$" : ", $") + std::to_string(i);
  return sql + ")";
}

// Copies `table` row by row in `order_by` order: `read` checks each row as
// the SQLite store reads it, `bind` as the PostgreSQL store writes it.
template <typename Record, typename Bind>
Result<std::uint64_t> CopyCheckedTable(SqliteDatabase& source, pg::Connection& target, Relay& relay,
                                       const std::string& table, const char* columns,
                                       const char* types, const std::string& order_by,
                                       Result<Record> (*read)(const SqliteStatement&), Bind bind) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement select,
                          source.Prepare(std::string("SELECT ") + columns + " FROM " + table +
                                         " ORDER BY " + order_by));
  const std::string insert = CopyInsertSql(table, columns, std::char_traits<char>::length(types));
  std::uint64_t copied = 0;
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(bool has_row, select.Step());
    if (!has_row) return copied;
    Result<Record> record = read(select);
    if (!record.ok()) return record.error().WithContext("source " + table);
    PgParams params;
    Status bound = relay.ToParams(
        types, [&](SqliteStatement& statement) { return bind(statement, *record); }, params);
    if (!bound.ok()) return bound.error().WithContext("copy " + table);
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult inserted,
                            target.QueryPrepared("copy " + table, insert, params.span()));
    (void)inserted;
    ++copied;
  }
}

// The outbox keeps its ids (the ledger writer's exactly-once check relies on
// them, and the drain intent names one) and its payload text as stored; the
// id sequence goes on after the highest id SQLite ever handed out.
Result<std::uint64_t> CopyOutbox(SqliteDatabase& source, pg::Connection& target) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement select,
                          source.Prepare(std::string("SELECT ") + kOutboxColumns +
                                         " FROM ledger_outbox ORDER BY outbox_id"));
  const std::string insert =
      CopyInsertSql("ledger_outbox", kOutboxColumns, 4, "OVERRIDING SYSTEM VALUE ");
  std::uint64_t copied = 0;
  std::int64_t last_id = 0;
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(bool has_row, select.Step());
    if (!has_row) break;
    Result<PendingLedgerEvent> pending = ReadOutboxRow(select);
    if (!pending.ok()) return pending.error().WithContext("source ledger_outbox");
    const std::string payload(select.ColumnText(2));
    ATTEST_RETURN_IF_ERROR(
        target.Execute("copy ledger_outbox", insert,
                       {Param::Int64(pending->outbox_id), Param::Text(pending->event.kind),
                        Param::Text(payload), Param::Int64(select.ColumnInt64(3))}));
    last_id = pending->outbox_id;
    ++copied;
  }
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement sequence,
      source.Prepare("SELECT seq FROM sqlite_sequence WHERE name = 'ledger_outbox'"));
  ATTEST_ASSIGN_OR_RETURN(bool has_sequence, sequence.Step());
  if (has_sequence) last_id = std::max(last_id, sequence.ColumnInt64(0));
  if (last_id > 0) {
    ATTEST_RETURN_IF_ERROR(
        target.Execute("continue the outbox ids",
                       "SELECT setval(pg_get_serial_sequence('ledger_outbox', 'outbox_id'), $1)",
                       {Param::Int64(last_id)}));
  }
  return copied;
}

Error CorruptSingleton(const std::string& table, const std::string& problem) {
  return MakeError(ErrorCode::kCorrupt, "source service database: table " + table + ": " + problem);
}

// The drain intent (at most one row): a drain that stopped between its
// append and its mark is finished by the first drain on PostgreSQL.
Result<std::uint64_t> CopyDrainIntent(SqliteDatabase& source, pg::Connection& target) {
  ATTEST_ASSIGN_OR_RETURN(
      SqliteStatement select,
      source.Prepare("SELECT last_outbox_id, ledger_size_before FROM ledger_drain"));
  ATTEST_ASSIGN_OR_RETURN(bool has_row, select.Step());
  if (!has_row) return std::uint64_t{0};
  const std::int64_t last_outbox_id = select.ColumnInt64(0);
  const std::int64_t ledger_size_before = select.ColumnInt64(1);
  if (last_outbox_id < 1 || ledger_size_before < 0) {
    return CorruptSingleton("ledger_drain", "last_outbox_id " + std::to_string(last_outbox_id) +
                                                " or ledger_size_before " +
                                                std::to_string(ledger_size_before) +
                                                " is out of range");
  }
  ATTEST_RETURN_IF_ERROR(target.Execute(
      "copy ledger_drain",
      "INSERT INTO ledger_drain(id, last_outbox_id, ledger_size_before) VALUES (true, $1, $2)",
      {Param::Int64(last_outbox_id), Param::Int64(ledger_size_before)}));
  return std::uint64_t{1};
}

// The last CRL number issued: PostgreSQL's next one is the one after it.
Result<std::uint64_t> CopyCrlNumber(SqliteDatabase& source, pg::Connection& target) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement select, source.Prepare("SELECT value FROM crl_number"));
  ATTEST_ASSIGN_OR_RETURN(bool has_row, select.Step());
  if (!has_row) return std::uint64_t{0};
  const std::int64_t value = select.ColumnInt64(0);
  if (value < 1) {
    return CorruptSingleton("crl_number", "value " + std::to_string(value) + " is not positive");
  }
  ATTEST_RETURN_IF_ERROR(target.Execute("copy crl_number",
                                        "INSERT INTO crl_number(id, value) VALUES (true, $1)",
                                        {Param::Int64(value)}));
  return std::uint64_t{1};
}

}  // namespace

Result<std::vector<std::pair<std::string, std::uint64_t>>> CopySqliteServiceRows(
    SqliteDatabase& source, pg::Connection& target) {
  ATTEST_ASSIGN_OR_RETURN(Relay relay, Relay::Open());
  std::vector<std::pair<std::string, std::uint64_t>> counts;
  auto add = [&](std::string table, Result<std::uint64_t> copied) -> Status {
    if (!copied.ok()) return copied.error();
    counts.emplace_back(std::move(table), *copied);
    return OkStatus();
  };
  // Nodes before the certificates that reference them.
  ATTEST_RETURN_IF_ERROR(add(
      "nodes", CopyCheckedTable(source, target, relay, "nodes", kNodeColumns, kNodeTypes, "node_id",
                                ReadNodeRow, [](SqliteStatement& s, const NodeRecord& node) {
                                  return BindNode(s, node, node.version);
                                })));
  ATTEST_RETURN_IF_ERROR(add(
      "enrollments", CopyCheckedTable(source, target, relay, "enrollments", kEnrollmentColumns,
                                      kEnrollmentTypes, "enrollment_id", ReadEnrollmentRow,
                                      [](SqliteStatement& s, const EnrollmentRecord& enrollment) {
                                        return BindEnrollment(s, enrollment, enrollment.version);
                                      })));
  ATTEST_RETURN_IF_ERROR(
      add("certificates",
          CopyCheckedTable(source, target, relay, "certificates", kCertificateColumns,
                           kCertificateTypes, "serial_hex", ReadCertificateRow, BindCertificate)));
  ATTEST_RETURN_IF_ERROR(
      add("tokens", CopyCheckedTable(source, target, relay, "tokens", kTokenColumns, kTokenTypes,
                                     "token_id", ReadTokenRow, BindToken)));
  ATTEST_RETURN_IF_ERROR(
      add("policies", CopyCheckedTable(source, target, relay, "policies", kPolicyColumns,
                                       kPolicyTypes, "serial", ReadPolicyRow, BindPolicy)));
  ATTEST_RETURN_IF_ERROR(add("ledger_outbox", CopyOutbox(source, target)));
  ATTEST_RETURN_IF_ERROR(add("ledger_drain", CopyDrainIntent(source, target)));
  ATTEST_RETURN_IF_ERROR(add("crl_number", CopyCrlNumber(source, target)));
  return counts;
}

}  // namespace attest::service::internal
