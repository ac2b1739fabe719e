// The relay between PostgreSQL and the SQLite store's checked binders and
// readers (postgres_internal.h): one rule for what a record may hold, for
// both backends, until fields.h is made backend-neutral.
#include <cstring>

#include "src/store/postgres_internal.h"

namespace attest::service::internal {

void PgParams::Text(std::string_view text) {
  texts_.emplace_back(text);
  params_.push_back(pg::Param::Text(texts_.back()));
}

void PgParams::Bytes(ByteView bytes) {
  blobs_.emplace_back(bytes.begin(), bytes.end());
  params_.push_back(pg::Param::Bytes(blobs_.back()));
}

Result<Relay> Relay::Open() {
  ATTEST_ASSIGN_OR_RETURN(
      SqliteDatabase db,
      SqliteDatabase::Open(":memory:", SqliteDatabase::OpenMode::kReadWriteCreate));
  return Relay(std::move(db));
}

Result<SqliteStatement*> Relay::Select(const char* types) {
  auto found = selects_.find(types);
  if (found == selects_.end()) {
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < std::strlen(types); ++i) {
      sql += (i == 0 ? "?" : ", ?") + std::to_string(i + 1);
    }
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement, db_.Prepare(sql));
    found = selects_.emplace(types, std::move(statement)).first;
  } else {
    found->second.Reset();
  }
  return &found->second;
}

Status Relay::Copy(SqliteStatement& select, const char* types, PgParams& params) {
  ATTEST_ASSIGN_OR_RETURN(bool has_row, select.Step());
  if (!has_row) return MakeError(ErrorCode::kInternal, "relay: no row");
  for (int column = 0; types[column] != '\0'; ++column) {
    if (select.ColumnIsNull(column)) {
      params.Null();
    } else if (types[column] == 'i') {
      params.Int64(select.ColumnInt64(column));
    } else if (types[column] == 't') {
      params.Text(select.ColumnText(column));
    } else {
      params.Bytes(select.ColumnBlob(column));
    }
  }
  select.Reset();
  return OkStatus();
}

Status Relay::Load(const pg::QueryResult& result, int row, const char* types,
                   SqliteStatement& select) {
  for (int column = 0; types[column] != '\0'; ++column) {
    const int index = column + 1;
    ATTEST_ASSIGN_OR_RETURN(bool null, result.IsNull(row, column));
    if (null) {
      ATTEST_RETURN_IF_ERROR(select.BindNull(index));
    } else if (types[column] == 'i') {
      ATTEST_ASSIGN_OR_RETURN(std::int64_t value, result.Int64(row, column));
      ATTEST_RETURN_IF_ERROR(select.BindInt64(index, value));
    } else if (types[column] == 't') {
      ATTEST_ASSIGN_OR_RETURN(std::string_view value, result.Text(row, column));
      ATTEST_RETURN_IF_ERROR(select.BindText(index, value));
    } else {
      ATTEST_ASSIGN_OR_RETURN(ByteView value, result.Bytes(row, column));
      ATTEST_RETURN_IF_ERROR(select.BindBlob(index, value));
    }
  }
  ATTEST_ASSIGN_OR_RETURN(bool has_row, select.Step());
  if (!has_row) return MakeError(ErrorCode::kInternal, "relay: no row");
  return OkStatus();
}

}  // namespace attest::service::internal
